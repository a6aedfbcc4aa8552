import Foundation

/// Files and folders of a run directory, made for the operator alone (0600/0700) in the
/// call that creates them: nothing is ever readable by others, not even for a moment, and
/// no process-wide umask is needed (which the steps and shells the tool starts would
/// inherit).
enum PrivateFile {
  /// A file descriptor for `path` opened with `flags` (O_CLOEXEC added); a file it creates
  /// is 0600, and an existing one is made 0600. -1 when it cannot be opened.
  static func open(_ path: String, _ flags: Int32) -> Int32 {
    let fd = Foundation.open(path, flags | O_CLOEXEC, 0o600)
    if fd >= 0 { _ = fchmod(fd, 0o600) }
    return fd
  }

  /// Writes `text` as the whole of `path` (created or emptied, owner-only, never through a
  /// link); false when it cannot.
  static func overwrite(_ path: String, with text: String) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return Descriptor.writeAll(Array(text.utf8), to: fd)
  }

  /// A handle that writes `path` from its start (created or emptied).
  static func create(_ path: String) -> FileHandle? {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC)
    return fd < 0 ? nil : FileHandle(fileDescriptor: fd, closeOnDealloc: true)
  }

  /// Writes `data` to `path` through a file beside it and a rename, so a reader never
  /// sees half of it.
  static func write(_ data: Data, to path: String) throws {
    let temporary = path + ".tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC)
    guard fd >= 0 else {
      throw RunDirectoryError("cannot write \(path): \(String(cString: strerror(errno)))")
    }
    let written = Descriptor.writeAll(Array(data), to: fd)
    let why = String(cString: strerror(errno))
    guard close(fd) == 0, written else {
      unlink(temporary)
      throw RunDirectoryError(
        "cannot write \(path): \(written ? String(cString: strerror(errno)) : why)")
    }
    guard rename(temporary, path) == 0 else {
      throw RunDirectoryError("cannot write \(path): \(String(cString: strerror(errno)))")
    }
  }

  /// Creates `path` and its missing parents, 0700.
  static func makeDirectory(_ path: String) throws {
    try FileManager.default.createDirectory(
      atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
  }
}
