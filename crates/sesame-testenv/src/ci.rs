// Shared by the build script and the library, so that both read the environment alike.

/// Whether `CI` says this is a CI run: set, not empty, and neither `false` nor `0`.
pub fn ci_from(value: Option<std::ffi::OsString>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Whether an environment variable holds a non-empty value.
pub fn is_set(value: Option<std::ffi::OsString>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}
