//! Files the operator points kepgate at and kepgate then serves to anyone (`ui.pages_dir`,
//! `ui.branding.logo_file`), read once at start. Only a regular file or a folder is read, never
//! through a link: a link in the pages folder (`env.css -> /proc/self/environ`,
//! `key.css -> tls.key`) would publish whatever it names, and a FIFO or a device would hang or
//! fill memory at start. Links on the configured path itself are followed (a release folder
//! switched by a link); the file read, and every entry inside the pages folder, must not be one,
//! nor a file with a second name (a hard link).
//! Sizes are bounded by what is read, not by what the file system reports (a file of /proc
//! reports 0 bytes).

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;

use anyhow::Context;

/// What an entry of the pages folder may be.
#[derive(Debug, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Folder,
}

/// What `path` itself is (a link is not followed): a regular file or a folder, or an error that
/// names it and says what it is.
pub fn entry_kind(path: &Path, setting: &str) -> anyhow::Result<EntryKind> {
    let metadata = std::fs::symlink_metadata(path)
        .with_context(|| format!("{setting}: cannot read {}", path.display()))?;
    if metadata.is_file() {
        return Ok(EntryKind::File);
    }
    if metadata.is_dir() {
        return Ok(EntryKind::Folder);
    }
    Err(refusal(path, setting, &metadata))
}

/// The bytes of the regular file at `path`, at most `max` of them. The file itself must not be
/// a link, nor anything but a regular file, and must hold as many bytes as it says it does.
pub fn read_regular_file(path: &Path, setting: &str, max: u64) -> anyhow::Result<Vec<u8>> {
    let metadata = std::fs::symlink_metadata(path)
        .with_context(|| format!("{setting}: cannot read {}", path.display()))?;
    if !metadata.is_file() {
        return Err(refusal(path, setting, &metadata));
    }
    // Checked again on the open file: the name may have been replaced since.
    let file = open_no_follow(path).map_err(|e| refused_open(path, setting, e))?;
    let opened = file
        .metadata()
        .with_context(|| format!("{setting}: cannot read {}", path.display()))?;
    if !opened.is_file() {
        return Err(refusal(path, setting, &opened));
    }
    // A hard link is the same mistake as a symbolic one (`ln` for `ln -s` or `cp`): the file
    // under a second name, told from a regular file only by its link count.
    let names = std::os::unix::fs::MetadataExt::nlink(&opened);
    anyhow::ensure!(
        names == 1,
        "{setting}: {} has {names} names (hard links): kepgate would publish the file they all          name; put a copy of it there",
        path.display()
    );
    let bytes = read_at_most(file, max)
        .with_context(|| format!("{setting}: cannot read {}", path.display()))?;
    anyhow::ensure!(
        bytes.len() as u64 <= max,
        "{setting}: {} is larger than {max} bytes",
        path.display()
    );
    anyhow::ensure!(
        bytes.len() as u64 == opened.len(),
        "{setting}: {} says it holds {} bytes but {} were read: a file of /proc or /sys, or \
         one being written; only a regular file on disk is read",
        path.display(),
        opened.len(),
        bytes.len()
    );
    Ok(bytes)
}

/// At most `max + 1` bytes: one more than allowed tells a file over the limit, whatever its size
/// says.
fn read_at_most(reader: impl Read, max: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Opens for reading without following a link in the last component, and without waiting for a
/// writer if the name is now a FIFO (the check after opening refuses it).
fn open_no_follow(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NOFOLLOW | libc::O_NONBLOCK,
    );
    options.open(path)
}

/// `O_NOFOLLOW` on a link fails with `ELOOP`: said as what it is.
fn refused_open(path: &Path, setting: &str, error: std::io::Error) -> anyhow::Error {
    #[cfg(unix)]
    if error.raw_os_error() == Some(libc::ELOOP) {
        return anyhow::anyhow!(
            "{setting}: {} is a symbolic link; only a regular file is read, never through a link",
            path.display()
        );
    }
    anyhow::Error::new(error).context(format!("{setting}: cannot read {}", path.display()))
}

fn refusal(path: &Path, setting: &str, metadata: &Metadata) -> anyhow::Error {
    let what = match (kind_name(metadata), std::fs::read_link(path)) {
        ("a symbolic link", Ok(target)) => format!("a symbolic link to {}", target.display()),
        (kind, _) => kind.to_owned(),
    };
    anyhow::anyhow!(
        "{setting}: {} is {what}; only regular files and folders are read, never through a link",
        path.display()
    )
}

fn kind_name(metadata: &Metadata) -> &'static str {
    let kind = metadata.file_type();
    if kind.is_symlink() {
        return "a symbolic link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
    }
    "neither a regular file nor a folder"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_without_end_is_cut_one_byte_past_the_limit() {
        // What /dev/zero is: read without a bound, it fills memory.
        let bytes = read_at_most(std::io::repeat(0), 1024).unwrap();
        assert_eq!(bytes.len(), 1025);
    }

    #[test]
    fn a_file_of_proc_that_reports_no_size_is_refused() {
        let path = Path::new("/proc/self/environ");
        if !path.exists() {
            return;
        }
        let message = format!(
            "{:#}",
            read_regular_file(path, "test", 1024 * 1024).unwrap_err()
        );
        assert!(
            message.contains("/proc/self/environ says it holds 0 bytes but"),
            "{message}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_named_with_its_target_and_never_opened() {
        let dir = std::env::temp_dir().join(format!("kepgate-of-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("secret"), "s3cret").unwrap();
        std::os::unix::fs::symlink(dir.join("secret"), dir.join("a.css")).unwrap();
        let message = format!(
            "{:#}",
            read_regular_file(&dir.join("a.css"), "test", 100).unwrap_err()
        );
        // The name is refused even where the check before opening is raced.
        let opened = open_no_follow(&dir.join("a.css")).unwrap_err();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            message.contains("a.css is a symbolic link to "),
            "{message}"
        );
        assert!(message.contains("secret"), "{message}");
        assert_eq!(opened.raw_os_error(), Some(libc::ELOOP));
    }
}
