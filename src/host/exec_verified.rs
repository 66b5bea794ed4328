//! Executing the very file that was checked (`SecureConfig`), not whatever its path names by the
//! time the process starts.
//!
//! `std::process::Command` executes a program by name. On Linux the command is given one more
//! step just before its `exec`, in the child: `fexecve(2)` of the file descriptor that was opened
//! and hashed ([`super::checksum::open_verified`]), with the argument list and the environment
//! the command would have used (both computed before the fork). The command's other settings
//! (current directory, stdio, process group) are applied by `Command` before that step. The
//! kernel executes an open file, so renaming or replacing the path after the check changes
//! nothing; writing to the open file would change its status-change time, which the digest
//! cache notices next time, and once running the file cannot be written (`ETXTBSY`).
//!
//! `Command` does not say whether `env_clear` was called; its `Debug` form does (`clear: true`).
//! If that form is ever not understood, the path is executed by name as elsewhere, with a
//! warning, rather than risk handing the host's environment to a plugin that was meant to have
//! none.
//!
//! A script (`#!`) is run by its interpreter, which opens it again by the `/proc/self/fd` path
//! the kernel passes: its descriptor is left open across `exec` for that (the plugin inherits it).
//!
//! Elsewhere (no `fexecve` on macOS) the checked path is executed by name; see
//! [`super::checksum`] for the race that leaves.

use std::process::Command;

use super::checksum::VerifiedExecutable;
use crate::error::Error;

/// Makes `command` execute `verified` instead of looking its program up again.
#[cfg(target_os = "linux")]
pub(crate) fn exec_verified(
    command: &mut Command,
    verified: VerifiedExecutable,
) -> Result<(), Error> {
    use std::ffi::CString;
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::CommandExt;

    let to_c = |s: &std::ffi::OsStr| {
        CString::new(s.as_bytes()).map_err(|_| {
            Error::Config(format!(
                "the plugin command {:?} contains a NUL byte",
                s.to_string_lossy()
            ))
        })
    };
    let Some(cleared) = env_cleared(command) else {
        tracing::warn!(target: "go_plugin", "cannot tell the plugin command's environment; executing the checked path by name");
        return Ok(());
    };
    let mut strings = vec![to_c(command.get_program())?];
    for arg in command.get_args() {
        strings.push(to_c(arg)?);
    }
    let argv = CStringArray::new(strings);
    let mut variables: std::collections::BTreeMap<std::ffi::OsString, std::ffi::OsString> =
        if cleared {
            Default::default()
        } else {
            std::env::vars_os().collect()
        };
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => variables.insert(name.to_owned(), value.to_owned()),
            None => variables.remove(name),
        };
    }
    let mut entries = Vec::new();
    for (name, value) in variables {
        let mut entry = name;
        entry.push("=");
        entry.push(value);
        entries.push(to_c(&entry)?);
    }
    let envp = CStringArray::new(entries);
    let VerifiedExecutable { file, script } = verified;
    let step = move || {
        let fd = file.as_raw_fd();
        // SAFETY: after fork, before exec: only async-signal-safe calls (fcntl, fexecve) on
        // memory prepared before the fork; `environ` is the environment `Command` installed.
        unsafe {
            if script && libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            libc::fexecve(fd, argv.pointers(), envp.pointers());
        }
        Err(std::io::Error::last_os_error())
    };
    // SAFETY: the closure allocates nothing and calls only async-signal-safe functions.
    unsafe {
        command.pre_exec(step);
    }
    Ok(())
}

/// Elsewhere the command runs the checked path by name (see the module docs).
#[cfg(not(target_os = "linux"))]
pub(crate) fn exec_verified(_: &mut Command, _: VerifiedExecutable) -> Result<(), Error> {
    Ok(())
}

/// An argument or environment vector built before the fork: the strings and a NULL-terminated
/// pointer list.
#[cfg(target_os = "linux")]
struct CStringArray {
    _strings: Vec<std::ffi::CString>,
    pointers: Vec<*const libc::c_char>,
}

#[cfg(target_os = "linux")]
impl CStringArray {
    fn new(strings: Vec<std::ffi::CString>) -> Self {
        let mut pointers: Vec<*const libc::c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        pointers.push(std::ptr::null());
        CStringArray {
            _strings: strings,
            pointers,
        }
    }

    fn pointers(&self) -> *const *const libc::c_char {
        self.pointers.as_ptr()
    }
}

// SAFETY: the pointers point into `_strings`, owned by the same value and never changed.
#[cfg(target_os = "linux")]
unsafe impl Send for CStringArray {}
// SAFETY: as above; nothing is mutated through a shared reference.
#[cfg(target_os = "linux")]
unsafe impl Sync for CStringArray {}

/// Whether `env_clear` was called on `command`, read from its `Debug` form; `None` when that form
/// does not say.
#[cfg(target_os = "linux")]
fn env_cleared(command: &Command) -> Option<bool> {
    let form = format!("{command:#?}");
    let after = &form[form.find("CommandEnv {")?..];
    let clear = after[after.find("clear: ")? + "clear: ".len()..]
        .split(',')
        .next()?;
    match clear.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn env_clear_is_read_from_the_command() {
        let mut command = Command::new("x");
        command.env("A", "1");
        assert_eq!(env_cleared(&command), Some(false));
        command.env_clear().env("B", "2");
        assert_eq!(env_cleared(&command), Some(true));
    }
}
