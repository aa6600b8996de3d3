//! Load weights: the nice → weight table and the fixed-point helpers CFS
//! builds on.

use super::Nanos;

/// Weight of a nice-0 task (`NICE_0_LOAD` in kernel/sched/sched.h, without
/// the extra `SCHED_FIXEDPOINT_SHIFT` resolution of 64-bit kernels).
pub const NICE_0_LOAD: u64 = 1024;

/// Weight of a `SCHED_IDLE` task (`WEIGHT_IDLEPRIO` in kernel/sched/sched.h).
pub const WEIGHT_IDLEPRIO: u64 = 3;

/// Lowest nice value (highest priority).
pub const MIN_NICE: i8 = -20;

/// Highest nice value (lowest priority).
pub const MAX_NICE: i8 = 19;

/// `sched_prio_to_weight[]`, copied verbatim from kernel/sched/core.c.
///
/// Index 0 is nice −20, index 39 is nice 19. Each step is a factor of about
/// 1.25, so that one nice level is worth ~10% of CPU between two competing
/// tasks ("the 10% effect" comment in core.c).
pub const SCHED_PRIO_TO_WEIGHT: [u32; 40] = [
    /* -20 */ 88761, 71755, 56483, 46273, 36291, //
    /* -15 */ 29154, 23254, 18705, 14949, 11916, //
    /* -10 */ 9548, 7620, 6100, 4904, 3906, //
    /*  -5 */ 3121, 2501, 1991, 1586, 1277, //
    /*   0 */ 1024, 820, 655, 526, 423, //
    /*   5 */ 335, 272, 215, 172, 137, //
    /*  10 */ 110, 87, 70, 56, 45, //
    /*  15 */ 36, 29, 23, 18, 15, //
];

/// The load weight of a nice value; out-of-range values are clamped to
/// −20..=19 (callers validate first, see [`super::SchedParams::validate`]).
pub fn nice_to_weight(nice: i8) -> u64 {
    let idx = i16::from(nice.clamp(MIN_NICE, MAX_NICE)) - i16::from(MIN_NICE);
    u64::from(SCHED_PRIO_TO_WEIGHT[usize::from(idx.unsigned_abs())])
}

/// `delta × num / den` without overflow, saturating at `u64::MAX`.
///
/// The kernel's `__calc_delta()` (kernel/sched/fair.c) does this with a
/// precomputed 2^32/weight inverse and shifts; we can afford an exact 128-bit
/// division, which rounds down by less than 1 ns per call.
pub(crate) fn mul_div(delta: Nanos, num: u64, den: u64) -> Nanos {
    let den = u128::from(den.max(1));
    let v = u128::from(delta) * u128::from(num) / den;
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// `calc_delta_fair()` (kernel/sched/fair.c): convert a real-time delta into
/// virtual time for an entity of `weight`: `delta × NICE_0_LOAD / weight`.
pub(crate) fn calc_delta_fair(delta: Nanos, weight: u64) -> Nanos {
    if weight == NICE_0_LOAD {
        delta
    } else {
        mul_div(delta, NICE_0_LOAD, weight)
    }
}

/// Inverse of [`calc_delta_fair`], rounding up: the smallest real-time delta
/// whose virtual value is at least `vdelta`.
pub(crate) fn real_from_virtual_ceil(vdelta: Nanos, weight: u64) -> Nanos {
    let v = (u128::from(vdelta) * u128::from(weight)).div_ceil(u128::from(NICE_0_LOAD));
    u64::try_from(v).unwrap_or(u64::MAX)
}
