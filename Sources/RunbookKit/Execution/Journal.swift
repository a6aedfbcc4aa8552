import Crypto
import Foundation

/// The run's journal: JSON Lines, each record flushed and fsynced as it is written, so a
/// crash or power loss leaves every finished step on record.
///
/// Records form a digest chain: each line ends with `"digest":"<hex>"`, the SHA-256 of the
/// previous record's digest, a newline, and the line's own bytes up to that member. Editing,
/// removing or reordering any record breaks the chain from there on (`runbook verify`).
public actor Journal {
  private let handle: FileHandle
  /// Where the next record goes: the file's size, kept here rather than asked of the file
  /// at each record (a step on many hosts appends many).
  private var end: UInt64
  /// The file's path.
  public nonisolated let path: String
  private let encoder: JSONEncoder
  /// The digest of the last record written.
  public private(set) var lastDigest: String
  private let sync: JournalSync

  /// When a record reaches the disk.
  public enum Durability: Sendable {
    /// Before `append` returns (fsync).
    case now
    /// In the background, while the tool goes on; `durable()` waits for it, and the
    /// executor calls it before it starts the next step on a host.
    case beforeNextStep
    /// With the next durable record. It survives a killed tool all the same (it is written
    /// at once), but not a power loss.
    case withNext
  }

  /// The digest the first record chains from.
  public static let genesis = String(repeating: "0", count: 64)

  /// Opens (creating or appending to) the journal at `path`.
  public init(path: String) throws {
    let fd = PrivateFile.open(path, O_RDWR | O_CREAT)
    guard fd >= 0 else {
      throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
    }
    let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    lastDigest = try Self.finalDigest(path: path)
    end = handle.seekToEndOfFile()
    self.handle = handle
    sync = JournalSync(descriptor: fd)
    self.path = path
    encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
  }

  /// Appends one record, durable as `durability` says; returns its digest.
  @discardableResult
  public func append<R: Encodable>(_ record: R, durability: Durability = .now) throws -> String {
    if let failure = sync.failure {
      throw CocoaError(
        .fileWriteUnknown,
        userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: "fsync: \(failure)"])
    }
    let body = try encoder.encode(record)
    let (line, digest) = Self.chain(body: body, after: lastDigest)
    // A line that does not fit (a full disk) is taken back whole: the journal stays a
    // chain of whole records, and a smaller record (the run's end) may still fit.
    do {
      try handle.write(contentsOf: line)
      end += UInt64(line.count)
    } catch {
      try? handle.truncate(atOffset: end)
      throw RunDirectoryError("cannot write \(path): \(Self.reason(error))")
    }
    switch durability {
    case .now: try handle.synchronize()
    case .beforeNextStep: sync.request()
    case .withNext: break
    }
    lastDigest = digest
    return digest
  }

  /// The system's words for a failed write ("No space left on device"), not Foundation's.
  static func reason(_ error: Error) -> String {
    let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
    if let code = underlying?.code, underlying?.domain == NSPOSIXErrorDomain {
      return String(cString: strerror(Int32(code)))
    }
    return "\(error)"
  }

  /// Returns once every record appended so far is on disk: nil, or why it is not.
  public nonisolated func durable() async -> String? {
    await sync.wait()
    return sync.failure.map { "fsync of \(path) failed: \($0)" }
  }

  /// The line for a record's JSON `body` chained after `previous`, and its digest.
  static func chain(body: Data, after previous: String) -> (Data, String) {
    var head = body
    head.removeLast()  // the closing brace; the digest member goes before it
    head.append(contentsOf: Array(",\"digest\":\"".utf8))
    var hasher = SHA256()
    hasher.update(data: Data((previous + "\n").utf8))
    hasher.update(data: head)
    let digest = Digest.hex(hasher.finalize())
    var line = head
    line.append(contentsOf: Array((digest + "\"}\n").utf8))
    return (line, digest)
  }

  /// A journal line's bytes up to its digest member, and the digest it claims.
  static func split(line: String) -> (head: Data, digest: String)? {
    let marker = ",\"digest\":\""
    guard line.hasSuffix("\"}"), let range = line.range(of: marker, options: .backwards) else {
      return nil
    }
    let digest = String(line[range.upperBound...].dropLast(2))
    guard digest.count == 64 else { return nil }
    return (Data(line[..<range.upperBound].utf8), digest)
  }

  /// The journal's lines, split on the newline byte as `readAll` splits them (a split on
  /// `Character`s would keep a CR LF together and see one record where `readAll` sees two).
  static func lines(of data: Data) -> [String] {
    var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map {
      String(decoding: $0, as: UTF8.self)
    }
    if lines.last == "" { lines.removeLast() }
    return lines
  }

  /// Checks the chain; returns the 1-based line of the first record that does not match.
  /// A line with a control character (a CR, a tab) is no record the journal wrote: its JSON
  /// escapes them.
  public static func verifyChain(path: String) throws -> Int? {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
    }
    var previous = genesis
    for (index, line) in lines(of: data).enumerated() {
      guard !line.utf8.contains(where: { $0 < 0x20 }), let (head, digest) = split(line: line)
      else { return index + 1 }
      var hasher = SHA256()
      hasher.update(data: Data((previous + "\n").utf8))
      hasher.update(data: head)
      let expected = Digest.hex(hasher.finalize())
      guard expected == digest else { return index + 1 }
      previous = digest
    }
    return nil
  }

  /// The digest of every record, in order (as far as the lines are well formed).
  public static func chainDigests(path: String) -> [String] {
    chainRecords(path: path).map(\.digest)
  }

  /// Each line's digest and whether it is a reports record (which only says which
  /// rendering of the journal the report files are), in order; a line that is not a
  /// record has an empty digest, so positions stay the lines'.
  static func chainRecords(path: String) -> [(digest: String, isReports: Bool)] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    return lines(of: data).map { line in
      (
        split(line: line)?.digest ?? "",
        line.hasPrefix("{") && line.contains("\"type\":\"reports\"")
      )
    }
  }

  /// Closes the file.
  public func close() {
    sync.drain()
    try? handle.close()
  }

  /// Reads the records of a journal (for `--resume`); a torn last line from a crash is
  /// ignored.
  public static func read(path: String) throws -> (
    run: RunRecord?, steps: [StepRecord], end: RunEndRecord?, starts: [StartRecord]
  ) {
    let all = try readAll(path: path)
    return (all.run, all.steps, all.end, all.starts)
  }

  /// The digest of the journal's last record (the genesis digest for an empty journal).
  public static func finalDigest(path: String) throws -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
    }
    defer { try? handle.close() }
    // Only the end is read: the last line holds the digest (lines are far shorter than
    // 1 MB; outputs are kept as tails).
    let size = try handle.seekToEnd()
    try handle.seek(toOffset: size > 1 << 20 ? size - (1 << 20) : 0)
    let tail = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    return tail.split(separator: "\n").last.flatMap { split(line: String($0))?.digest } ?? genesis
  }

  /// The digest of every record, in order (what the ledger's digests are looked up in).
  static func digests(path: String) -> [String] {
    chainDigests(path: path).filter { !$0.isEmpty }
  }

  /// The run record, the journal's first line, read without reading the rest.
  public static func readRunRecord(path: String) -> RunRecord? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    var line = Data()
    while let chunk = try? handle.read(upToCount: 64 << 10), !chunk.isEmpty {
      if let end = chunk.firstIndex(of: UInt8(ascii: "\n")) {
        line += chunk[..<end]
        break
      }
      line += chunk
      if line.count > 16 << 20 { return nil }
    }
    return try? JSONDecoder().decode(RunRecord.self, from: line)
  }

  /// Every record of a journal.
  public struct Contents: Sendable {
    /// The first run record.
    public var run: RunRecord?
    /// Every run record: one per attempt, in order.
    public var attempts: [RunRecord] = []
    /// The end record of each attempt that finished, by attempt number.
    public var ends: [Int: RunEndRecord] = [:]
    /// Step records in order.
    public var steps: [StepRecord]
    /// The end record of the last attempt; nil when that attempt did not finish.
    public var end: RunEndRecord?
    /// The last reports record.
    public var reports: ReportsRecord?
    /// Steps that were started, in order (a step record follows each that finished).
    public var starts: [StartRecord] = []
    /// The digest of the last record before any reports record (what reports show).
    public var digest: String
    /// Each line's digest (empty when it has none) and whether it is a reports record: the
    /// chain as a signature's coverage reads it, from the same read.
    var chain: [(digest: String, isReports: Bool)] = []
  }

  /// Reads a whole journal, decoding each line once; the record type is found on the raw
  /// bytes (quotes inside values are escaped, so `"type":"step"` cannot occur in them).
  public static func readAll(path: String) throws -> Contents {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
    }
    let decoder = JSONDecoder()
    var contents = Contents(run: nil, steps: [], end: nil, reports: nil, digest: genesis)
    let kinds = ["step", "run", "end", "reports", "start"].map {
      (Array("\"type\":\"\($0)\"".utf8), $0)
    }
    let digestMarker = Array(",\"digest\":\"".utf8)
    data.withUnsafeBytes { raw in
      let bytes = raw.bindMemory(to: UInt8.self)
      var start = 0
      while start < bytes.count {
        let end = (bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count)
        let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
        defer { start = end + 1 }
        if line.isEmpty, end == bytes.count { break }
        var digest = ""
        if line.count > 66,
          let at = ByteSearch.firstIndex(
            of: digestMarker, in: line, from: line.count - 66 - digestMarker.count),
          at + digestMarker.count + 64 <= line.count
        {
          let from = at + digestMarker.count
          digest = String(
            decoding: UnsafeBufferPointer(rebasing: line[from..<(from + 64)]), as: UTF8.self)
        }
        let kind = kinds.first(where: { ByteSearch.firstIndex(of: $0.0, in: line) != nil })?.1
        contents.chain.append((digest, kind == "reports"))
        guard let kind else { continue }
        let lineData = Data(line)
        switch kind {
        case "step":
          guard var record = try? decoder.decode(StepRecord.self, from: lineData) else { continue }
          // Journals from before attempts: a record belongs to the run record above it.
          if record.attempt == nil { record.attempt = max(contents.attempts.count, 1) }
          contents.steps.append(record)
        case "run":
          guard var record = try? decoder.decode(RunRecord.self, from: lineData) else { continue }
          if record.attempt == nil { record.attempt = contents.attempts.count + 1 }
          contents.attempts.append(record)
          if contents.run == nil { contents.run = record }
          // An end record ends the attempt above it: a later attempt that did not finish
          // leaves the run without an end.
          contents.end = nil
        case "end":
          guard let record = try? decoder.decode(RunEndRecord.self, from: lineData) else {
            continue
          }
          contents.end = record
          contents.ends[contents.attempts.last?.attempt ?? 1] = record
        case "start":
          if let record = try? decoder.decode(StartRecord.self, from: lineData) {
            contents.starts.append(record)
          }
        default:
          contents.reports = try? decoder.decode(ReportsRecord.self, from: lineData)
          continue
        }
        if !digest.isEmpty { contents.digest = digest }
      }
    }
    return contents
  }
}
