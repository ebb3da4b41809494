//! A team for the forwards of one thread: that thread and the pool's other threads,
//! which spin between splits instead of going back to sleep.
//!
//! rayon puts an idle thread to sleep within microseconds and wakes it when work comes.
//! In the browser that round trip (an `Atomics.wait` woken by `Atomics.notify`, then the
//! caller waiting for the helper's share the same way) costs tens of microseconds, and a
//! 64-token forward of the teacher splits ~50 times: the wake-ups ate much of what a
//! second core gave. Inside [`one_forward`] the helpers watch an atomic word for the
//! next split; a split costs a few cache-line transfers, so even the small layers of an
//! 8-token forward can be shared. A helper stays for [`IDLE_SPINS`] after its last
//! part, so the forwards that follow one another (a timing loop, a table of schemes)
//! find it awake, as onnxruntime's spinning threads are.
//!
//! Protocol (one [`Team`] per owner thread, leaked so helpers can hold it):
//! - the owner posts a task: it writes the task, then publishes `(epoch, parts, next = 0)`
//!   in one atomic word;
//! - any member claims part `next` by a compare-and-swap of that word, so a claim
//!   succeeds only within the epoch it read, and a part is never run twice;
//! - only after a successful claim does a helper read the task: the owner rewrites it
//!   only once every part of the epoch is claimed and done, so the task a claim reads is
//!   alive and complete;
//! - the owner claims parts too, then waits until `done` counts every part.
//!
//! A helper that finds no work for [`IDLE_SPINS`] goes back to rayon; the owner then
//! runs the parts alone until it calls more helpers at its next forward. Nothing ever
//! waits for a helper that has not claimed a part, so the team cannot deadlock, and
//! results do not depend on who ran which part.

use std::cell::{Cell, UnsafeCell};
use std::hint::spin_loop;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// Spins a helper makes without finding work before it leaves the team: a few
/// milliseconds in wasm, where a spin is one load (no pause instruction), far more than
/// any gap between two splits of a forward or between two forwards of a timing loop.
const IDLE_SPINS: u32 = 1 << 22;

/// Batch maps in progress: a forward inside one does not form a team (the other threads
/// are busy with their own sentences).
static BATCHES: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The team whose owner is this thread, while its forward runs.
    static CURRENT: Cell<Option<&'static Team>> = const { Cell::new(None) };
    /// This thread's team, made at its first forward with a team.
    static MINE: Cell<Option<&'static Team>> = const { Cell::new(None) };
}

/// A task as the team stores it: a part index to run. The lifetime is erased; see
/// [`Team::run`] for why it is sound.
type Task = *const (dyn Fn(usize) + Sync + 'static);

/// The shared state of one forward's team.
pub struct Team {
    /// `epoch << 32 | parts << 16 | next`.
    word: AtomicU64,
    /// Parts of the current epoch finished (or abandoned by a panic).
    done: AtomicUsize,
    /// Set when a part panicked on a helper; the owner panics in turn.
    poisoned: AtomicBool,
    /// Helpers in the team now (spinning or running a part).
    helpers: AtomicUsize,
    /// Threads in the team, the owner included: its pool's size.
    size: usize,
    /// The current epoch's task: written by the owner only between epochs.
    task: UnsafeCell<Option<Task>>,
    /// The owner's last epoch (written by the owner only).
    epoch: AtomicU32,
}

// SAFETY: `task` is written by the owner only, and read by helpers only after a claim
// that orders it after the owner's write and before the next one (see the module doc).
// Everything else is atomic.
unsafe impl Sync for Team {}

fn pack(epoch: u32, parts: usize, next: usize) -> u64 {
    (u64::from(epoch) << 32) | ((parts as u64) << 16) | next as u64
}

fn unpack(word: u64) -> (u32, usize, usize) {
    (
        (word >> 32) as u32,
        ((word >> 16) & 0xffff) as usize,
        (word & 0xffff) as usize,
    )
}

/// Multiply-adds of the Linear layers from which a forward forms a team: ~32 M. Below
/// it (the bundled student at 8 tokens: 9 M) the forward lasts ~0.5 ms in the browser,
/// and waking the helpers, sharing data between cores and waiting on their parts
/// measured slower than one thread (0.67 → 0.76 ms); the teacher at 8 tokens (85 M) gains
/// (3.9 → 2.8 ms).
pub const MIN_FORWARD: usize = 1 << 25;

/// Runs `forward` (`work`: its Linear layers' multiply-adds) with a team of every pool
/// thread when that can help: the work reaches [`MIN_FORWARD`], the calling thread is a
/// rayon pool thread (the engine worker in the threaded browser build is thread 0 of its
/// pool), the pool has more than one thread, no batch map is running and no team is
/// already formed. Otherwise `forward` runs as it is, and splits go through rayon.
pub fn one_forward<R>(work: usize, forward: impl FnOnce() -> R) -> R {
    let threads = rayon::current_num_threads();
    let formed = CURRENT.with(Cell::get).is_some();
    let in_pool = rayon::current_thread_index().is_some();
    let batch = BATCHES.load(Ordering::Acquire) > 0;
    if work < MIN_FORWARD || formed || !in_pool || threads <= 1 || batch {
        return forward();
    }
    let team = MINE.with(|mine| {
        let team = mine
            .get()
            .unwrap_or_else(|| Box::leak(Box::new(Team::new(threads))));
        mine.set(Some(team));
        team
    });
    // Call the helpers that left (or never came); those still spinning stay.
    for _ in team.helpers.load(Ordering::Acquire)..team.size - 1 {
        team.helpers.fetch_add(1, Ordering::AcqRel);
        rayon::spawn(move || team.help());
    }
    CURRENT.with(|c| c.set(Some(team)));
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(None));
        }
    }
    let _leave = Leave;
    forward()
}

/// Helpers in this thread's team now (0 before its first forward with a team).
#[cfg(test)]
pub fn helpers() -> usize {
    MINE.with(Cell::get)
        .map_or(0, |t| t.helpers.load(Ordering::Acquire))
}

/// The team this thread owns, if a forward with a team is running on it.
pub fn current() -> Option<&'static Team> {
    CURRENT.with(Cell::get)
}

/// Marks a batch map as running for as long as the guard lives.
pub fn batch() -> impl Drop {
    struct Batch;
    impl Drop for Batch {
        fn drop(&mut self) {
            BATCHES.fetch_sub(1, Ordering::AcqRel);
        }
    }
    BATCHES.fetch_add(1, Ordering::AcqRel);
    Batch
}

impl Team {
    fn new(size: usize) -> Self {
        Self {
            word: AtomicU64::new(0),
            done: AtomicUsize::new(0),
            poisoned: AtomicBool::new(false),
            helpers: AtomicUsize::new(0),
            size,
            task: UnsafeCell::new(None),
            epoch: AtomicU32::new(0),
        }
    }

    /// Threads in the team, the owner included.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Runs `part(i)` for every `i < parts` on the team's threads, returning when all
    /// are done. Called by the owner only.
    pub fn run(&self, parts: usize, part: &(dyn Fn(usize) + Sync)) {
        assert!(parts < 1 << 16, "team: too many parts");
        if parts == 0 {
            return;
        }
        // SAFETY (lifetime erasure): helpers call the task only after claiming a part of
        // this epoch, and this function returns only when every part is done, so no call
        // outlives `part`. The previous epoch is over (every part done), so no helper
        // reads `task` while it is written.
        let task: Task =
            unsafe { std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), Task>(part) };
        unsafe { *self.task.get() = Some(task) };
        let epoch = self.epoch.load(Ordering::Relaxed).wrapping_add(1);
        self.epoch.store(epoch, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        self.poisoned.store(false, Ordering::Relaxed);
        self.word.store(pack(epoch, parts, 0), Ordering::Release);
        {
            // Even if a part panics here, `part` is not dropped before the helpers'
            // claimed parts are done.
            let _drain = Drain { team: self, parts };
            while let Some(i) = self.claim() {
                let done = Done::new(self);
                part(i);
                done.succeed();
            }
        }
        if self.poisoned.load(Ordering::Acquire) {
            panic!("team: a part panicked on a helper thread");
        }
    }

    /// Claims the next part of the current epoch, if one is left.
    fn claim(&self) -> Option<usize> {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            let (_, parts, next) = unpack(word);
            if next >= parts {
                return None;
            }
            match self.word.compare_exchange_weak(
                word,
                word + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(next),
                Err(now) => word = now,
            }
        }
    }

    /// A helper's loop: claim and run parts until no work came for [`IDLE_SPINS`]
    /// spins, then leave.
    fn help(&self) {
        struct Leave<'a>(&'a Team);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                self.0.helpers.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let _leave = Leave(self);
        // The owner's thread can run a helper job of its own team while it waits inside
        // rayon: it must not spin for itself.
        if MINE.with(Cell::get).is_some_and(|t| std::ptr::eq(t, self)) {
            return;
        }
        let mut idle = 0u32;
        while idle < IDLE_SPINS {
            let Some(i) = self.claim() else {
                idle += 1;
                spin_loop();
                continue;
            };
            idle = 0;
            // SAFETY: a part of the current epoch is claimed, so `task` is this epoch's
            // and stays alive until this part is counted done (see [`Team::run`]).
            let task = unsafe { (*self.task.get()).expect("a claimed part has a task") };
            let done = Done::new(self);
            // A panic is the owner's to raise (`Done` poisons the team): one escaping a
            // job of `rayon::spawn` would abort the process.
            let run = std::panic::AssertUnwindSafe(|| unsafe { (*task)(i) });
            if std::panic::catch_unwind(run).is_ok() {
                done.succeed();
            }
        }
    }
}

/// Counts a claimed part done when dropped, and poisons the team if the part unwound
/// instead of succeeding, so the owner never waits for a part that will not finish.
struct Done<'a> {
    team: &'a Team,
    succeeded: bool,
}

impl<'a> Done<'a> {
    fn new(team: &'a Team) -> Self {
        Self {
            team,
            succeeded: false,
        }
    }

    fn succeed(mut self) {
        self.succeeded = true;
    }
}

impl Drop for Done<'_> {
    fn drop(&mut self) {
        if !self.succeeded {
            self.team.poisoned.store(true, Ordering::Release);
        }
        self.team.done.fetch_add(1, Ordering::Release);
    }
}

/// The end of the owner's [`Team::run`]: claims what is left (after a panic) so no
/// helper starts it, then waits until every claimed part is counted done.
struct Drain<'a> {
    team: &'a Team,
    parts: usize,
}

impl Drop for Drain<'_> {
    fn drop(&mut self) {
        while self.team.claim().is_some() {
            self.team.done.fetch_add(1, Ordering::Release);
        }
        while self.team.done.load(Ordering::Acquire) < self.parts {
            spin_loop();
        }
    }
}
