//! Locked memory for secrets: a small arena of anonymous pages, each `mlock`ed and left out of
//! core dumps (`MADV_DONTDUMP`), shared by many small secrets.
//!
//! Why an arena and not `mlock` on each heap allocation: locks work on whole pages and do not
//! nest, so unlocking one small secret would unlock every other secret on its page. Here a page
//! is counted: it is unlocked and unmapped only when its last secret is gone. Freed space is
//! not reused while the page lives (secrets are few and small); the current page, once empty,
//! is kept (zeroed and locked) for the next secret.
//!
//! When `mlock` is refused (RLIMIT_MEMLOCK, no CAP_IPC_LOCK), the process says so once and
//! goes on with unlocked pages: a secret that might be swapped beats an agent that will not run.

use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::sync::{Mutex, MutexGuard, Once};

use zeroize::Zeroize;

/// Where one secret's bytes live. Owned by exactly one `Secret`; freed with [`release`].
pub(super) struct Slot {
    ptr: NonNull<u8>,
    len: usize,
    /// Base address of the page (or run of pages) holding it: the arena's key.
    page: usize,
}

// SAFETY: the bytes behind `ptr` are written once in `store` and then only read until the
// owner calls `release`; the arena's bookkeeping is behind a mutex.
unsafe impl Send for Slot {}
// SAFETY: as for `Send`: shared references only read bytes that no one writes any more.
unsafe impl Sync for Slot {}

impl Slot {
    pub(super) fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr..ptr+len` lies in a mapping that lives while this slot does.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

struct Page {
    size: usize,
    used: usize,
    live: usize,
    locked: bool,
}

struct Arena {
    pages: BTreeMap<usize, Page>,
    /// The page new secrets go to while they fit.
    current: Option<usize>,
}

static ARENA: Mutex<Arena> = Mutex::new(Arena {
    pages: BTreeMap::new(),
    current: None,
});
static WARN_UNLOCKED: Once = Once::new();

fn arena() -> MutexGuard<'static, Arena> {
    ARENA.lock().unwrap_or_else(|e| e.into_inner())
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|s| *s > 0)
        .unwrap_or(4096)
}

/// Copies `bytes` (not empty) into locked memory.
pub(super) fn store(bytes: &[u8]) -> Slot {
    let mut arena = arena();
    let (page, offset) = arena.reserve(bytes.len());
    let ptr = (page + offset) as *mut u8;
    // SAFETY: `reserve` handed out `len` unused bytes at `ptr` in a live, writable mapping.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len()) };
    Slot {
        ptr: NonNull::new(ptr).expect("mapped memory is not null"),
        len: bytes.len(),
        page,
    }
}

/// Zeroes the slot's bytes; unlocks and unmaps its page when it was the page's last secret.
pub(super) fn release(slot: &mut Slot) {
    // SAFETY: the slot owns these bytes until now; nothing reads them after release.
    unsafe { std::slice::from_raw_parts_mut(slot.ptr.as_ptr(), slot.len) }.zeroize();
    arena().release(slot.page);
}

/// Whether the slot's page is locked in memory.
pub(super) fn is_locked(slot: &Slot) -> bool {
    arena().pages.get(&slot.page).is_some_and(|p| p.locked)
}

impl Arena {
    /// `len` bytes in the current page, or in a new one: (page base, offset).
    fn reserve(&mut self, len: usize) -> (usize, usize) {
        if let Some(page) = self
            .current
            .and_then(|base| self.pages.get_mut(&base).map(|p| (base, p)))
        {
            let (base, p) = page;
            if p.size - p.used >= len {
                let offset = p.used;
                p.used += len;
                p.live += 1;
                return (base, offset);
            }
        }
        let size = len.div_ceil(page_size()) * page_size();
        let base = map(size);
        let locked = lock(base, size);
        self.pages.insert(
            base,
            Page {
                size,
                used: len,
                live: 1,
                locked,
            },
        );
        self.current = Some(base);
        (base, 0)
    }

    fn release(&mut self, base: usize) {
        let Some(p) = self.pages.get_mut(&base) else {
            return;
        };
        p.live -= 1;
        if p.live > 0 {
            return;
        }
        if self.current == Some(base) {
            // Every slot on it was zeroed when released: the page is clean for reuse.
            p.used = 0;
            return;
        }
        let p = self.pages.remove(&base).expect("page present");
        unmap(base, p.size, p.locked);
    }
}

fn map(size: usize) -> usize {
    // SAFETY: a fresh private anonymous mapping; no existing memory is touched.
    let addr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if addr == libc::MAP_FAILED {
        let layout = std::alloc::Layout::from_size_align(size, page_size()).expect("page layout");
        std::alloc::handle_alloc_error(layout);
    }
    addr as usize
}

/// Locks the pages and keeps them out of core dumps; says once per process when it cannot.
fn lock(base: usize, size: usize) -> bool {
    let addr = base as *mut libc::c_void;
    // SAFETY: `base..base+size` is a mapping this arena owns. MADV_DONTDUMP is best effort.
    let locked = unsafe {
        libc::madvise(addr, size, libc::MADV_DONTDUMP);
        libc::mlock(addr, size) == 0
    };
    if !locked {
        let error = std::io::Error::last_os_error();
        WARN_UNLOCKED.call_once(|| {
            tracing::warn!(%error, "cannot lock passwords and tokens in memory (RLIMIT_MEMLOCK, no CAP_IPC_LOCK): they stay unlocked and could reach swap; raise LimitMEMLOCK=");
        });
    }
    locked
}

fn unmap(base: usize, size: usize, locked: bool) {
    let addr = base as *mut libc::c_void;
    // SAFETY: no slot points into the mapping any more (its live count is 0).
    unsafe {
        if locked {
            libc::munlock(addr, size);
        }
        libc::munmap(addr, size);
    }
}
