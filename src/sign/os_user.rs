//! The account name of this process's real user, from the kernel (getuid) and the password database,
//! never from `$USER`, which anyone can set.

/// The login name of the real user id, or why it cannot be found.
pub fn account_name() -> Result<String, String> {
    // SAFETY: getuid cannot fail and has no preconditions.
    let uid = unsafe { libc::getuid() };
    let mut pwd = std::mem::MaybeUninit::<libc::passwd>::uninit();
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    let mut buf = vec![0u8; 4096];
    loop {
        // SAFETY: every pointer is valid for the call, `buf` is writable for `buf.len()` bytes, and `result`
        // is only read after the call returns.
        let rc = unsafe { libc::getpwuid_r(uid, pwd.as_mut_ptr(), buf.as_mut_ptr().cast(), buf.len(), &mut result) };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc != 0 {
            return Err(format!("cannot look up user id {uid}: {}", std::io::Error::from_raw_os_error(rc)));
        }
        if result.is_null() {
            return Err(format!("user id {uid} has no entry in the password database"));
        }
        // SAFETY: getpwuid_r succeeded and filled `pwd`, whose `pw_name` points into `buf` (still alive).
        let name = unsafe { std::ffi::CStr::from_ptr((*result).pw_name) };
        return name
            .to_str()
            .map(str::to_string)
            .map_err(|_| format!("the account name of user id {uid} is not UTF-8"));
    }
}

/// This process's real user id.
pub fn uid() -> u32 {
    // SAFETY: getuid cannot fail and has no preconditions.
    unsafe { libc::getuid() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_account_name_comes_from_the_kernel_not_from_user() {
        let name = super::account_name().unwrap();
        assert!(!name.is_empty());
    }
}
