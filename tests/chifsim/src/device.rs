//! The host's iLO CHIF device, shared by every process that loads chifsim: a directory standing
//! for `/dev/hpilo` (`CHIFSIM_DEVICE`, or `chifsim_set_device`) with one file per channel
//! control block, `d0ccb0` .. `d0ccb7`, as the `hpilo` driver makes them.
//!
//! HPE's library opens a channel file with `O_EXCL` (seen with strace on `ilorest_chif.so`
//! 7.4), and the driver refuses a second open of a channel that was opened exclusively with
//! `EBUSY` (linux drivers/misc/hpilo.c, `ilo_open`): a channel belongs to one open file, hence
//! one process. chifsim stands for that with an exclusive `flock` on the channel's file, held
//! while the channel is open; the kernel drops it when the process dies, as it closes the
//! driver's file. Without a device directory each loaded copy has private, unlimited channels.

use std::ffi::c_int;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Channel files of the device (the driver's minimum `max_ccb`; its default is 16).
pub const CHANNELS: u32 = 8;

/// errno EBUSY: every channel of the device is taken.
pub const ERR_BUSY: c_int = 16;

/// An exclusive, non-blocking `flock` on `file`; false when another open file holds one.
fn try_lock(file: &File) -> bool {
    // SAFETY: flock on a descriptor we own; no memory is passed.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

fn channel_file(dir: &Path, slot: u32) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(format!("d0ccb{slot}")))
}

/// Takes the first free channel of the device: its number and the locked file, which frees it
/// when dropped. `Err(ERR_BUSY)` when all are taken, `Err(errno)` when the directory fails.
pub fn claim(dir: &Path) -> Result<(u32, File), c_int> {
    std::fs::create_dir_all(dir).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    for slot in 0..CHANNELS {
        let file = channel_file(dir, slot).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        if try_lock(&file) {
            return Ok((slot, file));
        }
    }
    Err(ERR_BUSY)
}

/// Channels of the device now open, by any process (this one included: `flock` locks belong to
/// open files, so a fresh open sees this process's own channels as taken).
pub fn in_use(dir: &Path) -> u64 {
    (0..CHANNELS)
        .filter(|&slot| {
            channel_file(dir, slot).is_ok_and(|f| !try_lock(&f)) // dropping `f` unlocks it
        })
        .count() as u64
}
