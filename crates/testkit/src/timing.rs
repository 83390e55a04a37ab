//! Timing for the benchmarks that run beside another program on a loaded machine: the median
//! of a call's thread CPU time (`CLOCK_THREAD_CPUTIME_ID`), so time the thread spends
//! preempted does not count. Wall-clock medians there favour whatever fits in one scheduler
//! slice: a 1.5 ms call finishes unpreempted while a 10 ms one waits for the other workers.

/// The calling thread's CPU time in milliseconds.
pub fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill; the clock exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

/// Median thread CPU time of `rounds` calls of `f` in milliseconds, after five untimed ones.
pub fn median_cpu_ms(rounds: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..5 {
        f();
    }
    let mut t: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = thread_cpu_ms();
            f();
            thread_cpu_ms() - start
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}
