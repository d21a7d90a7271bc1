//! `/dev/ipmi0` (the kernel's `ipmi_devintf`): send with `IPMICTL_SEND_COMMAND` to the system
//! interface (address type 0Ch, channel Fh = the BMC itself), `poll` the descriptor until an
//! answer is queued, read it with `IPMICTL_RECEIVE_MSG_TRUNC` and keep only the response whose
//! `msgid` is ours. The structs mirror `linux/ipmi.h` (uapi); the tests pin their layout.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::raw::{c_int, c_long, c_short, c_uchar, c_uint};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::{Ipmi, IpmiError, IpmiRequest, IpmiResponse};

/// `IPMI_SYSTEM_INTERFACE_ADDR_TYPE`.
pub const SYSTEM_INTERFACE_ADDR_TYPE: c_int = 0x0c;
/// `IPMI_BMC_CHANNEL`.
pub const BMC_CHANNEL: c_short = 0x0f;
/// `IPMI_RESPONSE_RECV_TYPE`: an answer to one of our requests.
pub const RESPONSE_RECV_TYPE: c_int = 1;
/// `IPMI_MAX_MSG_LENGTH` of the kernel: no answer is longer.
pub const MAX_MSG_LENGTH: usize = 272;
/// `IPMI_MAX_ADDR_SIZE`.
pub const MAX_ADDR_SIZE: usize = 32;

/// `struct ipmi_system_interface_addr`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SystemInterfaceAddr {
    pub addr_type: c_int,
    pub channel: c_short,
    pub lun: c_uchar,
}

/// `struct ipmi_addr`: room for any address type (the sender's address of an answer).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IpmiAddr {
    pub addr_type: c_int,
    pub channel: c_short,
    pub data: [u8; MAX_ADDR_SIZE],
}

/// `struct ipmi_msg`.
#[repr(C)]
#[derive(Debug)]
pub struct IpmiMsg {
    pub netfn: c_uchar,
    pub cmd: c_uchar,
    pub data_len: u16,
    pub data: *mut c_uchar,
}

/// `struct ipmi_req`.
#[repr(C)]
#[derive(Debug)]
pub struct IpmiReq {
    pub addr: *mut c_uchar,
    pub addr_len: c_uint,
    pub msgid: c_long,
    pub msg: IpmiMsg,
}

/// `struct ipmi_recv`.
#[repr(C)]
#[derive(Debug)]
pub struct IpmiRecv {
    pub recv_type: c_int,
    pub addr: *mut c_uchar,
    pub addr_len: c_uint,
    pub msgid: c_long,
    pub msg: IpmiMsg,
}

// `_IOR('i', 13, struct ipmi_req)` and `_IOWR('i', 11, struct ipmi_recv)`.
nix::ioctl_read!(ipmictl_send_command, b'i', 13, IpmiReq);
nix::ioctl_readwrite!(ipmictl_receive_msg_trunc, b'i', 11, IpmiRecv);

/// An open IPMI device. One exchange at a time (a mutex), so answers are rarely interleaved;
/// a stray answer (another `msgid`, an event) is read and dropped.
pub struct DevIpmi {
    file: File,
    path: PathBuf,
    timeout: Duration,
    next_msgid: Mutex<c_long>,
}

impl DevIpmi {
    /// Opens the device read-write. `timeout` bounds each exchange (the kernel retries a lost
    /// request itself and then answers with completion code C3h).
    pub fn open(path: &Path, timeout: Duration) -> Result<DevIpmi, IpmiError> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| IpmiError::Open {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        Ok(DevIpmi {
            file,
            path: path.to_path_buf(),
            timeout,
            next_msgid: Mutex::new(1),
        })
    }

    fn io(&self, what: &'static str, e: nix::Error) -> IpmiError {
        IpmiError::Io {
            path: self.path.clone(),
            what,
            reason: e.desc().to_string(),
        }
    }

    fn send(&self, req: &IpmiRequest, msgid: c_long) -> Result<(), IpmiError> {
        if req.data.len() > MAX_MSG_LENGTH {
            return Err(IpmiError::Io {
                path: self.path.clone(),
                what: "send",
                reason: format!("{} data bytes; at most {MAX_MSG_LENGTH}", req.data.len()),
            });
        }
        let mut addr = SystemInterfaceAddr {
            addr_type: SYSTEM_INTERFACE_ADDR_TYPE,
            channel: BMC_CHANNEL,
            lun: 0,
        };
        let mut data = req.data.clone();
        let mut raw = IpmiReq {
            addr: (&mut addr as *mut SystemInterfaceAddr).cast(),
            addr_len: std::mem::size_of::<SystemInterfaceAddr>() as c_uint,
            msgid,
            msg: IpmiMsg {
                netfn: req.netfn,
                cmd: req.cmd,
                data_len: data.len() as u16,
                data: data.as_mut_ptr(),
            },
        };
        // SAFETY: `raw` points at `addr` and `data`, which outlive the call; the kernel only
        // reads them (copy_from_user) during the ioctl.
        unsafe { ipmictl_send_command(self.file.as_raw_fd(), &mut raw) }
            .map_err(|e| self.io("send (IPMICTL_SEND_COMMAND)", e))?;
        Ok(())
    }

    /// Waits until the descriptor is readable or `deadline` passes; false on timeout.
    fn wait(&self, deadline: Instant) -> Result<bool, IpmiError> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            let mut pfd = libc::pollfd {
                fd: self.file.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().clamp(1, c_int::MAX as u128) as c_int;
            // SAFETY: one valid pollfd for the duration of the call.
            let n = unsafe { libc::poll(&mut pfd, 1, ms) };
            match n {
                0 => return Ok(false),
                n if n > 0 => return Ok(true),
                _ => match nix::Error::last() {
                    nix::Error::EINTR => continue,
                    e => return Err(self.io("poll", e)),
                },
            }
        }
    }

    /// Reads one queued message (`None` when nothing was queued).
    fn receive(&self) -> Result<Option<Received>, IpmiError> {
        let mut buf = Zeroizing::new(vec![0u8; MAX_MSG_LENGTH]);
        let mut addr = IpmiAddr {
            addr_type: 0,
            channel: 0,
            data: [0; MAX_ADDR_SIZE],
        };
        let mut raw = IpmiRecv {
            recv_type: 0,
            addr: (&mut addr as *mut IpmiAddr).cast(),
            addr_len: std::mem::size_of::<IpmiAddr>() as c_uint,
            msgid: 0,
            msg: IpmiMsg {
                netfn: 0,
                cmd: 0,
                data_len: MAX_MSG_LENGTH as u16,
                data: buf.as_mut_ptr(),
            },
        };
        // SAFETY: `raw` points at `addr` and `buf` with their true sizes; the kernel writes at
        // most that much (the _TRUNC variant truncates instead of failing).
        match unsafe { ipmictl_receive_msg_trunc(self.file.as_raw_fd(), &mut raw) } {
            Ok(_) | Err(nix::Error::EMSGSIZE) => {}
            Err(nix::Error::EAGAIN) => return Ok(None),
            Err(e) => return Err(self.io("receive (IPMICTL_RECEIVE_MSG_TRUNC)", e)),
        }
        let len = usize::from(raw.msg.data_len).min(MAX_MSG_LENGTH);
        let data = Zeroizing::new(buf[..len].to_vec());
        Ok(Some(Received {
            recv_type: raw.recv_type,
            msgid: raw.msgid,
            data,
        }))
    }
}

/// One message read from the device.
struct Received {
    recv_type: c_int,
    msgid: c_long,
    data: Zeroizing<Vec<u8>>,
}

impl Ipmi for DevIpmi {
    fn exchange(&self, req: &IpmiRequest) -> Result<IpmiResponse, IpmiError> {
        let mut next = self.next_msgid.lock().unwrap_or_else(|e| e.into_inner());
        let msgid = *next;
        *next = next.wrapping_add(1);
        self.send(req, msgid)?;
        let deadline = Instant::now() + self.timeout;
        let timeout = || IpmiError::Timeout {
            path: self.path.clone(),
            netfn: req.netfn,
            cmd: req.cmd,
            after: self.timeout,
        };
        loop {
            if !self.wait(deadline)? {
                return Err(timeout());
            }
            match self.receive()? {
                Some(mut m) if m.recv_type == RESPONSE_RECV_TYPE && m.msgid == msgid => {
                    return Ok(IpmiResponse(Zeroizing::new(std::mem::take(&mut *m.data))));
                }
                Some(m) => tracing::debug!(
                    recv_type = m.recv_type,
                    msgid = m.msgid,
                    "dropping an IPMI message that is not our answer"
                ),
                None => {}
            }
        }
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::mem::{offset_of, size_of};

    use super::*;

    #[test]
    fn opening_a_missing_device_names_the_path() {
        let err = DevIpmi::open(Path::new("/nonexistent/ipmi0"), Duration::from_secs(1))
            .err()
            .unwrap();
        assert!(
            matches!(&err, IpmiError::Open { path, .. } if path == Path::new("/nonexistent/ipmi0")),
            "{err:?}"
        );
        assert!(err.to_string().contains("/nonexistent/ipmi0"), "{err}");
    }

    /// Sizes and offsets printed by a C program compiled against this host's
    /// `/usr/include/linux/ipmi.h` (x86_64, LP64): `sizeof`/`offsetof` of each struct.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn struct_layouts_match_linux_ipmi_h() {
        assert_eq!(size_of::<SystemInterfaceAddr>(), 8);
        assert_eq!(
            (
                offset_of!(SystemInterfaceAddr, channel),
                offset_of!(SystemInterfaceAddr, lun)
            ),
            (4, 6)
        );
        assert_eq!(size_of::<IpmiAddr>(), 40);
        assert_eq!(size_of::<IpmiMsg>(), 16);
        assert_eq!(
            [
                offset_of!(IpmiMsg, netfn),
                offset_of!(IpmiMsg, cmd),
                offset_of!(IpmiMsg, data_len),
                offset_of!(IpmiMsg, data)
            ],
            [0, 1, 2, 8]
        );
        assert_eq!(size_of::<IpmiReq>(), 40);
        assert_eq!(
            [
                offset_of!(IpmiReq, addr),
                offset_of!(IpmiReq, addr_len),
                offset_of!(IpmiReq, msgid),
                offset_of!(IpmiReq, msg)
            ],
            [0, 8, 16, 24]
        );
        assert_eq!(size_of::<IpmiRecv>(), 48);
        assert_eq!(
            [
                offset_of!(IpmiRecv, recv_type),
                offset_of!(IpmiRecv, addr),
                offset_of!(IpmiRecv, addr_len),
                offset_of!(IpmiRecv, msgid),
                offset_of!(IpmiRecv, msg)
            ],
            [0, 8, 16, 24, 32]
        );
    }

    /// `IPMICTL_SEND_COMMAND` = 0x8028690d and `IPMICTL_RECEIVE_MSG_TRUNC` = 0xc030690b, as the
    /// same C program printed them.
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    #[test]
    fn ioctl_numbers_match_linux_ipmi_h() {
        assert_eq!(
            nix::request_code_read!(b'i', 13, size_of::<IpmiReq>()) as u64,
            0x8028_690d
        );
        assert_eq!(
            nix::request_code_readwrite!(b'i', 11, size_of::<IpmiRecv>()) as u64,
            0xc030_690b
        );
    }

    /// A regular file accepts neither ioctl: the error names the step and the path.
    #[test]
    fn a_device_that_is_not_ipmi_gives_an_error_naming_the_ioctl() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let dev = DevIpmi::open(file.path(), Duration::from_millis(100)).unwrap();
        let req = IpmiRequest {
            netfn: 0x2c,
            cmd: 0x01,
            data: vec![0x52, 0x01],
        };
        let err = dev.exchange(&req).unwrap_err();
        assert!(
            err.to_string().contains("IPMICTL_SEND_COMMAND")
                && err.to_string().contains(&file.path().display().to_string()),
            "{err}"
        );
    }
}
