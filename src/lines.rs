//! Lines from a non-blocking pipe, resumable at any byte.
//!
//! The worker's stdout is read by whichever thread leads at the moment (the
//! service's reader thread, or a caller waiting for its own task), so the
//! reader never blocks and keeps every partial line in its own buffer: a
//! thread can stop reading at any point and another carry on where it left.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// Bytes asked for per `read`.
const CHUNK: usize = 1 << 16;

/// Above this a buffer left nearly empty is given back to the allocator.
const KEEP_CAPACITY: usize = 1 << 20;

/// One line taken from the reader.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    /// A whole line, without its end-of-line bytes.
    Text(&'a [u8]),
    /// A line longer than the limit was skipped without being kept; its size
    /// in bytes (newline included).
    TooLong(usize),
}

/// What one [`LineReader::fill`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fill {
    Data,
    /// Nothing to read now.
    Empty,
    /// The writer closed the pipe.
    Eof,
}

pub(crate) struct LineReader {
    fd: OwnedFd,
    /// Unconsumed bytes are `buf[start..]`.
    buf: Vec<u8>,
    start: usize,
    /// `buf[start..scanned]` is known to hold no newline.
    scanned: usize,
    /// Bytes of an over-long line skipped so far.
    skipping: Option<usize>,
    max_line: usize,
    eof: bool,
}

impl LineReader {
    /// Takes `fd` (the read end of a pipe) and makes it non-blocking.
    pub(crate) fn new(fd: OwnedFd, max_line: usize) -> io::Result<Self> {
        set_nonblocking(&fd)?;
        Ok(LineReader {
            fd,
            buf: Vec::new(),
            start: 0,
            scanned: 0,
            skipping: None,
            max_line,
            eof: false,
        })
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub(crate) fn is_eof(&self) -> bool {
        self.eof
    }

    /// The next whole line among the bytes already read (no I/O). At end of
    /// input an unterminated last line counts as a line.
    pub(crate) fn next_line(&mut self) -> Option<Line<'_>> {
        loop {
            let found = self.buf[self.scanned..]
                .iter()
                .position(|&b| b == b'\n')
                .map(|i| self.scanned + i);
            if let Some(skipped) = self.skipping {
                let end = match found {
                    Some(i) => i + 1,
                    None if self.eof => self.buf.len(),
                    None => {
                        // Count and drop what there is; the line goes on.
                        self.skipping = Some(skipped + self.buf.len() - self.start);
                        self.consume_to(self.buf.len());
                        return None;
                    }
                };
                let total = skipped + end - self.start;
                self.skipping = None;
                self.consume_to(end);
                return Some(Line::TooLong(total));
            }
            let pending = self.buf.len() - self.start;
            let end = match found {
                Some(i) => i + 1,
                None if pending > self.max_line => {
                    self.skipping = Some(0);
                    continue;
                }
                None if self.eof && pending > 0 => self.buf.len(),
                None => {
                    self.scanned = self.buf.len();
                    return None;
                }
            };
            let start = self.start;
            self.start = end;
            self.scanned = end;
            if end - start > self.max_line {
                return Some(Line::TooLong(end - start));
            }
            return Some(Line::Text(trim_eol(&self.buf[start..end])));
        }
    }

    /// One `read` of what the pipe holds (never blocks).
    pub(crate) fn fill(&mut self) -> io::Result<Fill> {
        if self.eof {
            return Ok(Fill::Eof);
        }
        self.compact();
        self.buf.reserve(CHUNK);
        let spare = self.buf.spare_capacity_mut();
        // SAFETY: reads at most `spare.len()` bytes into the vector's spare
        // capacity; `set_len` below covers only the bytes the kernel wrote.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), spare.as_mut_ptr().cast(), spare.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(Fill::Empty),
                _ => Err(e),
            };
        }
        if n == 0 {
            self.eof = true;
            return Ok(Fill::Eof);
        }
        // SAFETY: the kernel initialised `n` bytes of the spare capacity.
        unsafe { self.buf.set_len(self.buf.len() + n as usize) };
        Ok(Fill::Data)
    }

    /// Reads what the pipe holds now, up to about `limit` bytes, without
    /// waiting: the last look at a pipe whose writer is gone but may be held
    /// open by someone else.
    pub(crate) fn fill_now(&mut self, limit: usize) -> io::Result<()> {
        // Each read takes at most CHUNK bytes.
        for _ in 0..limit.div_ceil(CHUNK).max(1) {
            if self.fill()? != Fill::Data {
                break;
            }
        }
        Ok(())
    }

    fn consume_to(&mut self, end: usize) {
        self.start = end;
        self.scanned = end;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
            self.scanned = 0;
        }
    }

    /// Moves the unconsumed bytes to the front and gives back a large buffer
    /// once the line that needed it is gone.
    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        if self.buf.capacity() > KEEP_CAPACITY && self.buf.len() < CHUNK {
            self.buf.shrink_to(CHUNK * 2);
        }
    }
}

/// Makes `fd`'s open file description non-blocking (for a pipe: this end
/// only).
pub(crate) fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `line` without its trailing end-of-line bytes.
pub(crate) fn trim_eol(mut line: &[u8]) -> &[u8] {
    while let [rest @ .., b'\n' | b'\r'] = line {
        line = rest;
    }
    line
}

/// Waits until `fd` can be read (or is closed), at most `timeout` (`None`:
/// no limit). False on timeout.
pub(crate) fn wait_readable(fd: RawFd, timeout: Option<std::time::Duration>) -> bool {
    wait_any([(fd, libc::POLLIN)], timeout).is_some()
}

/// Waits until one of `fds` is ready for its events (or has an error or a
/// hang-up), at most `timeout` (`None`: no limit). Which ones are ready, or
/// `None` on timeout. An interrupted wait reports nothing ready: callers
/// look again.
pub(crate) fn wait_any<const N: usize>(
    fds: [(RawFd, libc::c_short); N],
    timeout: Option<std::time::Duration>,
) -> Option<[bool; N]> {
    let ms = match timeout {
        None => -1,
        // Round up so a short timeout does not become a busy poll.
        Some(t) => t.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32,
    };
    let mut pfds = fds.map(|(fd, events)| libc::pollfd {
        fd,
        events,
        revents: 0,
    });
    // SAFETY: N valid pollfds.
    let rc = unsafe { libc::poll(pfds.as_mut_ptr(), N as libc::nfds_t, ms) };
    if rc == 0 {
        return None;
    }
    // EINTR (rc < 0) counts as "look again".
    Some(pfds.map(|p| p.revents != 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::FromRawFd;

    fn pipe(max_line: usize) -> (LineReader, std::fs::File) {
        let mut fds = [0; 2];
        // SAFETY: two valid out slots.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: fresh descriptors, each owned once.
        let (r, w) = unsafe {
            (
                OwnedFd::from_raw_fd(fds[0]),
                std::fs::File::from_raw_fd(fds[1]),
            )
        };
        (LineReader::new(r, max_line).unwrap(), w)
    }

    fn lines(r: &mut LineReader) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(l) = r.next_line() {
            out.push(match l {
                Line::Text(t) => String::from_utf8_lossy(t).into_owned(),
                Line::TooLong(n) => format!("<{n}>"),
            });
        }
        out
    }

    #[test]
    fn lines_resume_across_reads_and_end_of_input() {
        let (mut r, mut w) = pipe(100);
        assert_eq!(r.fill().unwrap(), Fill::Empty);
        w.write_all(b"one\r\ntw").unwrap();
        assert_eq!(r.fill().unwrap(), Fill::Data);
        assert_eq!(lines(&mut r), ["one"]);
        w.write_all(b"o\nthree").unwrap();
        assert_eq!(r.fill().unwrap(), Fill::Data);
        assert_eq!(lines(&mut r), ["two"]);
        drop(w);
        assert_eq!(r.fill().unwrap(), Fill::Eof);
        assert!(r.is_eof());
        assert_eq!(lines(&mut r), ["three"]);
        assert_eq!(r.fill().unwrap(), Fill::Eof);
        assert!(r.next_line().is_none());
    }

    #[test]
    fn an_over_long_line_is_skipped_and_counted_whole() {
        let (mut r, mut w) = pipe(10);
        w.write_all(b"short\n0123456789abc").unwrap();
        r.fill().unwrap();
        assert_eq!(lines(&mut r), ["short"]);
        w.write_all(b"defghij").unwrap();
        r.fill().unwrap();
        assert_eq!(lines(&mut r), Vec::<String>::new());
        w.write_all(b"xyz\nafter\n0123456789A\n").unwrap();
        r.fill().unwrap();
        // 23 bytes + newline; then a line of exactly 11 + newline.
        assert_eq!(lines(&mut r), ["<24>", "after", "<12>"]);
        w.write_all(b"0123456789ABCDEF").unwrap();
        drop(w);
        r.fill().unwrap();
        r.fill().unwrap();
        assert_eq!(lines(&mut r), ["<16>"]);
    }

    #[test]
    fn a_big_buffer_is_given_back_after_its_line() {
        let (mut r, mut w) = pipe(8 << 20);
        let big = vec![b'x'; 4 << 20];
        let writer = std::thread::spawn(move || {
            w.write_all(&big).unwrap();
            w.write_all(b"\nsmall\n").unwrap();
        });
        let mut got = Vec::new();
        while got.len() < 2 {
            wait_readable(r.raw_fd(), None);
            r.fill().unwrap();
            got.extend(lines(&mut r).into_iter().map(|l| l.len()));
        }
        writer.join().unwrap();
        assert_eq!(got, [4 << 20, 5]);
        r.fill().unwrap();
        assert!(r.buf.capacity() <= KEEP_CAPACITY, "{}", r.buf.capacity());
    }

    #[test]
    fn wait_readable_times_out_on_a_quiet_pipe() {
        let (r, mut w) = pipe(10);
        assert!(!wait_readable(
            r.raw_fd(),
            Some(std::time::Duration::from_millis(20))
        ));
        w.write_all(b"x").unwrap();
        assert!(wait_readable(r.raw_fd(), Some(std::time::Duration::ZERO)));
    }
}
