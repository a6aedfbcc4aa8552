import Crypto
import Foundation

/// Everything one step prints on one host: written to its log file and to the terminal as
/// it arrives, line by line with secrets masked, and never held whole in memory.
///
/// It keeps only what later stages need: the start of standard output (for `capture`,
/// `expect` and console transcripts), the last part of the masked output (for the journal
/// and reports), a SHA-256 of the log and its size.
public final class OutputCollector: @unchecked Sendable {
  // Safe: every mutable field is private and touched only under `lock` (the host's output
  // arrives on the runner's tasks while the step's runner reads what was kept).
  /// How much of standard output is kept for captures, `expect` and transcripts.
  public static let keptStdoutLimit = 1 << 20
  /// How much of the end of the output the journal keeps.
  public static let tailLimit = 64 << 10
  /// A line longer than this is written out in pieces (masking looks within a piece).
  static let longLine = 64 << 10

  private let lock = NSLock()
  private let masker: SecretMasker
  private let hiddenPrefixes: [String]
  /// The log file, made (with its directory) when the first byte is written: a step that
  /// prints nothing costs no file and no directory.
  private let logPath: String?
  /// The log's descriptor while open (-1 before it is made and after `finish`).
  private var log: Int32 = -1
  private var madeLog = false
  /// Why the log could not be made or written (a full disk): the step then fails, saying so.
  private var logFailure: String?
  private let echo: (@Sendable (String) -> Void)?
  private var pending: [Stream: [UInt8]] = [:]
  private var stdoutKept: [UInt8] = []
  private var stdoutTruncated = false
  private var tail: [UInt8] = []
  private var hasher = SHA256()
  private var count = 0
  private var stderrLines: [String] = []
  /// How many lines were written, and which of them (0-based) standard error wrote: the
  /// reports mark those lines in the output's tail.
  private var lineCount = 0
  private var stderrRanges: [Range<Int>] = []
  /// A line of the tool's own is being written (`note`): it is neither output stream's.
  private var writingNote = false
  /// The last lines of standard error, masked: where a failing tool says why.
  private var stderrTail: [String] = []
  static let stderrTailLines = 40
  /// Standard output becomes a secret (`capture=` of a secret name): it is kept for the
  /// capture but never written, and standard error waits until the value is known.
  private let withholdStdout: String?
  private var withheldBytes = 0
  private var deferredStderr: [UInt8] = []
  private var droppedStderr = 0
  /// Lines between these control lines (a file step's diff) are kept out of the log and
  /// the terminal: the diff goes to the record once it is masked as a diff.
  private let hiddenRegion: (start: String, end: String)?
  private var inHiddenRegion = false
  /// Lines between these control lines (the session's state a shell step prints) are not
  /// output at all: they are kept apart, for the session, and never logged or shown.
  private let stateRegion: (start: String, end: String)?
  private var inStateRegion = false
  /// Standard output not yet looked at for the state's lines: a partial line.
  private var unfiltered: [UInt8] = []
  private var stateKept: [UInt8] = []

  enum Stream: Hashable { case stdout, stderr }

  /// Creates a collector writing to `logPath` (made on the first byte), echoing masked lines to `echo`;
  /// lines starting with a `hiddenPrefixes` entry are control lines, kept out of the log.
  public init(
    logPath: String?, masker: SecretMasker, hiddenPrefixes: [String],
    echo: (@Sendable (String) -> Void)?, withholdStdout: String? = nil,
    hiddenRegion: (start: String, end: String)? = nil,
    stateRegion: (start: String, end: String)? = nil
  ) {
    self.stateRegion = stateRegion
    self.masker = masker
    self.hiddenPrefixes = hiddenPrefixes + (hiddenRegion.map { [$0.start, $0.end] } ?? [])
    self.echo = echo
    self.withholdStdout = withholdStdout
    self.hiddenRegion = hiddenRegion
    self.logPath = logPath
  }

  /// Whether anything was written to the log file (so that it exists).
  public var wroteLog: Bool { lock.withLock { madeLog } }

  /// Takes a chunk of standard output.
  public func stdout(_ bytes: [UInt8]) { take(bytes, from: .stdout) }
  /// Takes a chunk of standard error.
  public func stderr(_ bytes: [UInt8]) { take(bytes, from: .stderr) }

  private func take(_ bytes: [UInt8], from stream: Stream) {
    lock.withLock {
      guard stream == .stdout, stateRegion != nil else {
        takeOutput(bytes, from: stream)
        return
      }
      let output = filterState(bytes)
      if !output.isEmpty { takeOutput(output, from: stream) }
    }
  }

  /// Takes the state's lines out of standard output, whole lines at a time: the output
  /// before a state line that follows output without a final newline stays as it was;
  /// holds the lock.
  private func filterState(_ bytes: [UInt8]) -> [UInt8] {
    guard let stateRegion else { return bytes }
    unfiltered += bytes
    var output: [UInt8] = []
    let start = Array(stateRegion.start.utf8)
    var from = 0
    while let end = unfiltered[from...].firstIndex(of: UInt8(ascii: "\n")) {
      let line = unfiltered[from...end]
      from = end + 1
      if inStateRegion {
        if line.starts(with: Array(stateRegion.end.utf8)) {
          inStateRegion = false
        } else {
          stateKept += line
        }
      } else if let at = Array(line).withUnsafeBufferPointer({
        ByteSearch.firstIndex(of: start, in: $0)
      }) {
        output += line.prefix(at)
        stateKept += line.dropFirst(at)
        inStateRegion = true
      } else {
        output += line
      }
    }
    unfiltered.removeFirst(from)
    // A long line without its end goes on as output, but for what could begin the marker.
    if !inStateRegion, unfiltered.count > Self.longLine {
      let keep = start.count - 1
      output += unfiltered.dropLast(keep)
      unfiltered.removeFirst(unfiltered.count - keep)
    }
    return output
  }

  /// Takes output that is the step's own; holds the lock.
  private func takeOutput(_ bytes: [UInt8], from stream: Stream) {
    if stream == .stdout {
      let room = Self.keptStdoutLimit - stdoutKept.count
      if room >= bytes.count {
        stdoutKept += bytes
      } else if room > 0 {
        stdoutKept += bytes.prefix(room)
        stdoutTruncated = true
      } else {
        stdoutTruncated = true
      }
    }
    if withholdStdout != nil {
      if stream == .stdout {
        withheldBytes += bytes.count
        return
      }
      let room = max(0, Self.keptStdoutLimit - deferredStderr.count)
      deferredStderr += bytes.prefix(room)
      droppedStderr += max(0, bytes.count - room)
      return
    }
    var buffer = pending.removeValue(forKey: stream) ?? []
    buffer += bytes
    // Whole lines go out together; a partial line waits for its end (masking never
    // sees half a secret), unless it grows past `longLine`.
    var cut = (buffer.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
    if cut == 0, buffer.count > Self.longLine { cut = safeCut(buffer) }
    if cut > 0 {
      let region = Array(buffer[..<cut])
      if hiddenRegion != nil
        || hiddenPrefixes.contains(where: { ByteSearch.contains(region, $0) })
      {
        var start = 0
        while start < region.count {
          let end =
            (region[start...].firstIndex(of: UInt8(ascii: "\n")) ?? (region.count - 1)) + 1
          emit(Array(region[start..<end]), from: stream)
          start = end
        }
      } else {
        emit(region, from: stream)
      }
    }
    pending[stream] = Array(buffer[cut...])
  }

  /// Where a long line without its end may be cut: before the last bytes that could begin
  /// a secret, before any secret that would straddle the cut, and on a UTF-8 boundary.
  private func safeCut(_ buffer: [UInt8]) -> Int {
    var cut = buffer.count - max(masker.longest - 1, 0)
    var moved = true
    while moved {
      moved = false
      for value in masker.values {
        let needle = Array(value.utf8)
        let from = max(0, cut - needle.count + 1)
        let found = buffer.withUnsafeBufferPointer {
          ByteSearch.firstIndex(of: needle, in: $0, from: from)
        }
        if let at = found, at < cut, at + needle.count > cut {
          cut = at
          moved = true
        }
      }
    }
    while cut > 0, cut < buffer.count, buffer[cut] & 0xC0 == 0x80 { cut -= 1 }
    return cut
  }

  /// Writes whole lines (or one line) masked, dropping control lines; holds the lock.
  private func emit(_ line: [UInt8], from stream: Stream) {
    if let hiddenRegion, stream == .stdout {
      if line.starts(with: Array(hiddenRegion.start.utf8)) {
        inHiddenRegion = true
        return
      }
      if inHiddenRegion {
        if ByteSearch.contains(line, hiddenRegion.end) { inHiddenRegion = false }
        return
      }
    }
    var bytes = line
    // Control lines are not output; one that follows output without a final newline
    // shares its line, so only the marker part is cut.
    for prefix in hiddenPrefixes where !prefix.isEmpty {
      let needle = Array(prefix.utf8)
      if let at = bytes.withUnsafeBufferPointer({ ByteSearch.firstIndex(of: needle, in: $0) }) {
        if at == 0 { return }
        bytes = Array(bytes[..<at]) + [UInt8(ascii: "\n")]
      }
    }
    let masked = masker.mask(String(decoding: bytes, as: UTF8.self))
    if stream == .stderr { keepErrorLines(masked) }
    write(Array(masked.utf8), from: writingNote ? nil : stream)
  }

  /// Keeps the first and the last lines of standard error; holds the lock.
  private func keepErrorLines(_ masked: String) {
    let lines = TextLines.split(masked).filter { !$0.isEmpty }
    if stderrLines.count < 20 { stderrLines += lines.prefix(20 - stderrLines.count) }
    stderrTail += lines.suffix(Self.stderrTailLines)
    if stderrTail.count > Self.stderrTailLines {
      stderrTail.removeFirst(stderrTail.count - Self.stderrTailLines)
    }
  }

  /// Writes masked bytes to the log, the digest, the tail and the terminal, counting the
  /// lines `stream` ended; holds the lock.
  private func write(_ bytes: [UInt8], from stream: Stream? = nil) {
    let newlines = bytes.count { $0 == UInt8(ascii: "\n") }
    if stream == .stderr, newlines > 0 {
      let lines = lineCount..<(lineCount + newlines)
      if let last = stderrRanges.last, last.upperBound == lines.lowerBound {
        stderrRanges[stderrRanges.count - 1] = last.lowerBound..<lines.upperBound
      } else {
        stderrRanges.append(lines)
        // Only the tail's lines are marked: ranges long before it need not be kept.
        if stderrRanges.count > 4096 { stderrRanges.removeFirst(1024) }
      }
    }
    lineCount += newlines
    let masked = String(decoding: bytes, as: UTF8.self)
    let data = Data(bytes)
    if !madeLog, logFailure == nil, let logPath, !data.isEmpty {
      try? PrivateFile.makeDirectory((logPath as NSString).deletingLastPathComponent)
      log = PrivateFile.open(logPath, O_WRONLY | O_CREAT | O_TRUNC)
      madeLog = log >= 0
      if log < 0 { logFailure = "cannot create \(logPath): \(String(cString: strerror(errno)))" }
    }
    if log >= 0, logFailure == nil, !Descriptor.writeAll(bytes, to: log) {
      logFailure = "cannot write \(logPath ?? "the log"): \(String(cString: strerror(errno)))"
    }
    hasher.update(data: data)
    count += data.count
    tail += data
    if tail.count > Self.tailLimit * 2 { tail.removeFirst(tail.count - Self.tailLimit) }
    if let echo {
      echo(masked.utf8.last == UInt8(ascii: "\n") ? String(masked.utf8.dropLast())! : masked)
    }
  }

  /// Writes a line of the tool's own (between retries) to the log and terminal.
  public func note(_ text: String) {
    lock.withLock {
      writingNote = true
      emit(Array(text.utf8), from: .stderr)
      writingNote = false
    }
  }

  /// The lines of the tail (its last `tailLines` lines) that standard error wrote, as
  /// 1-based first-last pairs; holds the lock.
  private func tailErrorLines(tailLines: Int) -> [[Int]] {
    let first = lineCount - tailLines
    return stderrRanges.compactMap { range in
      let low = max(range.lowerBound, first) - first
      let high = range.upperBound - first
      return high > low ? [low + 1, high] : nil
    }
  }

  /// Forgets the kept standard output (a retry starts afresh); keeps the last attempt's.
  public func resetKeptStdout() {
    lock.withLock {
      stdoutKept = []
      stdoutTruncated = false
      stateKept = []
    }
  }

  /// The session's state lines the step printed (see `ShellState.dumps`), unmasked: they
  /// never leave the tool as they are.
  public func keptState() -> String {
    lock.withLock { String(decoding: stateKept, as: UTF8.self) }
  }

  /// The standard output kept so far: the last attempt's (unmasked).
  public func keptStdout() -> String {
    lock.withLock { String(decoding: stdoutKept, as: UTF8.self) }
  }

  /// Flushes partial lines and closes the log; returns what was collected. `secrets` are
  /// values learnt from this very output (a captured secret): withheld output is masked
  /// with them before it is written.
  public func finish(secrets: [String] = []) -> CollectedOutput {
    lock.withLock {
      if !unfiltered.isEmpty {
        let rest = unfiltered
        unfiltered = []
        if inStateRegion { stateKept += rest } else { takeOutput(rest, from: .stdout) }
      }
      if let name = withholdStdout {
        let masker = SecretMasker(values: self.masker.secrets + secrets)
        let note = Array(
          "[standard output (\(withheldBytes) bytes) captured into the secret '\(name)'; not shown]\n"
            .utf8)
        write(note)
        if !deferredStderr.isEmpty {
          if deferredStderr.last != UInt8(ascii: "\n") { deferredStderr.append(UInt8(ascii: "\n")) }
          let masked = masker.mask(String(decoding: deferredStderr, as: UTF8.self))
          keepErrorLines(masked)
          write(Array(masked.utf8))
        }
        if droppedStderr > 0 {
          write(Array("[\(droppedStderr) more bytes of standard error not kept]\n".utf8))
        }
      }
      for stream in [Stream.stdout, .stderr] {
        if let rest = pending[stream], !rest.isEmpty {
          emit(rest + [UInt8(ascii: "\n")], from: stream)
        }
        pending[stream] = []
      }
      if log >= 0, close(log) != 0, logFailure == nil {
        logFailure = "cannot write \(logPath ?? "the log"): \(String(cString: strerror(errno)))"
      }
      log = -1
      let digest = Digest.hex(hasher.finalize())
      let kept = tail.suffix(Self.tailLimit)
      return CollectedOutput(
        stdout: String(decoding: stdoutKept, as: UTF8.self), stdoutTruncated: stdoutTruncated,
        tail: String(decoding: kept, as: UTF8.self),
        truncatedTail: count > Self.tailLimit, bytes: count, sha256: digest,
        firstErrorLines: stderrLines, lastErrorLines: stderrTail, logFailure: logFailure,
        stderrLines: tailErrorLines(tailLines: kept.count { $0 == UInt8(ascii: "\n") }))
    }
  }
}

/// What a step printed on a host, as much as is kept.
public struct CollectedOutput: Sendable, Equatable {
  /// The start of standard output, unmasked (for capture, expect, transcripts).
  public var stdout: String
  /// Standard output was longer than was kept.
  public var stdoutTruncated: Bool
  /// The end of the masked output (standard output and error as they came).
  public var tail: String
  /// The tail is not the whole output.
  public var truncatedTail: Bool
  /// The size of the masked output (the log).
  public var bytes: Int
  /// SHA-256 of the masked output (the log), hex.
  public var sha256: String
  /// The first lines of standard error, masked (for one-line failure summaries).
  public var firstErrorLines: [String]
  /// The last lines of standard error, masked (where a failing tool says why).
  public var lastErrorLines: [String] = []
  /// Why the log is not whole (a full disk), or `nil`: the step's record is then not the
  /// whole truth, and the step fails.
  public var logFailure: String?
  /// The lines of `tail` that standard error wrote: 1-based first-last pairs.
  public var stderrLines: [[Int]] = []
}
