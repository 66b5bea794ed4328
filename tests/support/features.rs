//! The go-plugin features the cross-tests need, checked at compile time with a clear message.

#[cfg(not(all(feature = "netrpc", feature = "reflection")))]
compile_error!(
    "these tests need the go-plugin features netrpc and reflection: run `make test`, or cargo \
     with `--features netrpc,reflection` (`--features go-plugin/netrpc,go-plugin/reflection` in \
     the workspace)"
);
