//! The order of runs: benchmark by benchmark; within a benchmark,
//! repetition by repetition; within a repetition, every runner once, the
//! order rotated by one each repetition (rep 1: A B C, rep 2: B C A,
//! rep 3: C A B, …). So drift (thermal, frequency, other load) hits all
//! runners alike, and no runner always runs first, right after a different
//! benchmark, or always right after the same neighbour.

/// One run: benchmark index, repetition (0-based) and runner index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub bench: usize,
    pub rep: usize,
    pub runner: usize,
}

/// The runner order of repetition `rep` (0-based): 0..n rotated left by
/// `rep`.
pub fn runner_order(n_runners: usize, rep: usize) -> Vec<usize> {
    if n_runners == 0 {
        return Vec::new();
    }
    (0..n_runners).map(|i| (i + rep) % n_runners).collect()
}

/// Every run, in order.
pub fn schedule(n_benches: usize, n_runners: usize, repeat: usize) -> Vec<Step> {
    let mut steps = Vec::with_capacity(n_benches * n_runners * repeat);
    for bench in 0..n_benches {
        for rep in 0..repeat {
            for runner in runner_order(n_runners, rep) {
                steps.push(Step { bench, rep, runner });
            }
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation() {
        assert_eq!(runner_order(3, 0), [0, 1, 2]);
        assert_eq!(runner_order(3, 1), [1, 2, 0]);
        assert_eq!(runner_order(3, 2), [2, 0, 1]);
        assert_eq!(runner_order(3, 3), [0, 1, 2]);
        assert_eq!(runner_order(1, 5), [0]);
        assert!(runner_order(0, 1).is_empty());
    }

    #[test]
    fn interleaved_schedule() {
        let s = schedule(2, 2, 3);
        let flat: Vec<(usize, usize, usize)> =
            s.iter().map(|s| (s.bench, s.rep, s.runner)).collect();
        assert_eq!(
            flat,
            [
                (0, 0, 0),
                (0, 0, 1),
                (0, 1, 1),
                (0, 1, 0),
                (0, 2, 0),
                (0, 2, 1),
                (1, 0, 0),
                (1, 0, 1),
                (1, 1, 1),
                (1, 1, 0),
                (1, 2, 0),
                (1, 2, 1),
            ]
        );
    }

    #[test]
    fn every_runner_once_per_rep_and_each_position_balanced() {
        let (runners, repeat) = (4, 8);
        let s = schedule(1, runners, repeat);
        assert_eq!(s.len(), runners * repeat);
        let mut first_count = vec![0; runners];
        for rep in 0..repeat {
            let mut seen: Vec<usize> = s
                .iter()
                .filter(|x| x.rep == rep)
                .map(|x| x.runner)
                .collect();
            first_count[seen[0]] += 1;
            seen.sort();
            assert_eq!(seen, (0..runners).collect::<Vec<_>>());
        }
        assert!(first_count.iter().all(|&c| c == repeat / runners));
    }
}
