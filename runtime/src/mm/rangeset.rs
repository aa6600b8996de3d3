//! A set of `u64` values stored as disjoint half-open ranges.

use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct RangeSet {
    /// start → end (exclusive); ranges are disjoint and never adjacent.
    ranges: BTreeMap<u64, u64>,
}

impl RangeSet {
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn contains(&self, x: u64) -> bool {
        matches!(self.ranges.range(..=x).next_back(), Some((_, &e)) if x < e)
    }

    pub fn insert(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let (mut s, mut e) = (start, end);
        // Absorb every range that overlaps or touches [s, e).
        let mut absorbed = Vec::new();
        if let Some((&ps, &pe)) = self.ranges.range(..=s).next_back() {
            if pe >= s {
                absorbed.push(ps);
                s = ps;
                e = e.max(pe);
            }
        }
        for (&rs, &re) in self.ranges.range(s..=e) {
            absorbed.push(rs);
            e = e.max(re);
        }
        for k in absorbed {
            self.ranges.remove(&k);
        }
        self.ranges.insert(s, e);
    }

    pub fn remove(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let mut touched = Vec::new();
        if let Some((&ps, &pe)) = self.ranges.range(..start).next_back() {
            if pe > start {
                touched.push((ps, pe));
            }
        }
        for (&rs, &re) in self.ranges.range(start..end) {
            touched.push((rs, re));
        }
        for (rs, re) in touched {
            self.ranges.remove(&rs);
            if rs < start {
                self.ranges.insert(rs, start);
            }
            if re > end {
                self.ranges.insert(end, re);
            }
        }
    }

    /// The parts of `[start, end)` that are in the set, in order.
    pub fn intersect(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        if let Some((_, &pe)) = self.ranges.range(..start).next_back() {
            if pe > start {
                out.push((start, pe.min(end)));
            }
        }
        for (&rs, &re) in self.ranges.range(start..end) {
            out.push((rs, re.min(end)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::RangeSet;

    #[test]
    fn insert_merge_remove() {
        let mut s = RangeSet::default();
        s.insert(10, 20);
        s.insert(20, 30);
        s.insert(40, 50);
        assert_eq!(s.intersect(0, 100), vec![(10, 30), (40, 50)]);
        s.remove(15, 45);
        assert_eq!(s.intersect(0, 100), vec![(10, 15), (45, 50)]);
        assert!(s.contains(14) && !s.contains(15) && s.contains(45));
        s.insert(0, 100);
        assert_eq!(s.intersect(5, 7), vec![(5, 7)]);
        s.remove(0, 100);
        assert!(s.is_empty());
    }
}
