//! Integration tests: the `siteaudit` binary against in-process servers on 127.0.0.1.
