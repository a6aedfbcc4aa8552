import Foundation

/// The live view of `runbook exec` on a terminal: the current section and step, done of
/// total, each host of the running step with a spinner and its elapsed time, then each
/// host's final status. Without a terminal, or with colour off, callers use plain lines.
public final class ProgressView: @unchecked Sendable {
  // Safe: every mutable field is private and touched only under `lock` (events come from
  // the hosts' tasks, redraws from the ticker).
  private let lock = NSLock()
  private let write: @Sendable (String) -> Void
  private let color: Bool
  private let verbose: Bool
  private let clock: @Sendable () -> ContinuousClock.Instant
  private var step: Step?
  private var header = ""
  private var hosts: [String] = []
  private var started: [String: ContinuousClock.Instant] = [:]
  private var drawnLines = 0
  private var frame = 0
  private var ticker: Task<Void, Never>?

  static let spinner = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

  /// Creates a view writing escape sequences through `write`; `verbose` also streams output.
  public init(
    color: Bool, verbose: Bool, write: @escaping @Sendable (String) -> Void,
    clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
  ) {
    self.color = color
    self.verbose = verbose
    self.write = write
    self.clock = clock
  }

  /// Starts redrawing the spinners ten times a second.
  public func start() {
    ticker = Task { [weak self] in
      while !Task.isCancelled {
        try? await Task.sleep(for: .milliseconds(100))
        self?.tick()
      }
    }
  }

  /// Stops redrawing and clears the live part.
  public func stop() {
    ticker?.cancel()
    lock.withLock { clear() }
  }

  /// Takes an event from the executor.
  public func handle(_ event: RunEvent) {
    lock.withLock {
      switch event {
      case .stepStarted(let ordinal, let total, let step, let hosts):
        self.step = step
        let section = step.headingPath.joined(separator: " › ")
        header =
          paint("[\(ordinal)/\(total)]", "1") + " " + (section.isEmpty ? "" : section + "  ")
          + paint(step.id, "1") + " (\(step.kind.rawValue))"
        self.hosts = hosts.isEmpty ? ["operator"] : hosts
        started = Dictionary(uniqueKeysWithValues: self.hosts.map { ($0, clock()) })
        draw()
      case .output(let host, let text):
        guard verbose else { return }
        clear()
        let prefix = hosts.count > 1 ? paint("[\(host)] ", "2") : "  "
        write(prefix + ByteSearch.prefixingLines(text, with: prefix) + "\n")
        draw()
      case .hostFinished(let record):
        clear()
        // The step's header goes above its first result, once.
        if started.count == hosts.count { write(header + "\n") }
        started[record.host] = nil
        hosts.removeAll { $0 == record.host }
        write(
          "  " + mark(record.status) + " " + record.host + "  "
            + paint(record.status.rawValue, colour(record.status))
            + (record.changed == true ? " (changed)" : "")
            + (record.reason.map { " — \($0)" } ?? "")
            + paint("  \(Self.seconds(record.durationMs))", "2") + "\n")
        if let session = record.session?.line { write("      " + paint(session, "2") + "\n") }
        if !hosts.isEmpty { draw() }
      }
    }
  }

  private func tick() {
    lock.withLock {
      guard !hosts.isEmpty else { return }
      frame += 1
      clear()
      draw()
    }
  }

  /// Draws the running step and its hosts; holds the lock.
  private func draw() {
    guard !hosts.isEmpty else { return }
    var lines = [header]
    let now = clock()
    for host in hosts {
      let elapsed = started[host].map { (now - $0).seconds } ?? 0
      lines.append(
        "  " + paint(Self.spinner[frame % Self.spinner.count], "36") + " " + host
          + paint(String(format: "  %.1fs", elapsed), "2"))
    }
    write(lines.joined(separator: "\n") + "\n")
    drawnLines = lines.count
  }

  /// Erases what `draw` wrote; holds the lock.
  private func clear() {
    guard drawnLines > 0 else { return }
    write(String(repeating: "\u{1B}[1A\u{1B}[2K", count: drawnLines) + "\r")
    drawnLines = 0
  }

  private func paint(_ text: String, _ code: String) -> String {
    color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
  }

  private func colour(_ status: StepStatus) -> String {
    switch status {
    case .ok: return "32"
    case .failed, .timeout, .interrupted, .unknown: return "31"
    case .skipped: return "2"
    case .pending: return "33"
    }
  }

  private func mark(_ status: StepStatus) -> String {
    let symbol: String
    switch status {
    case .ok: symbol = "✓"
    case .failed, .timeout, .interrupted: symbol = "✗"
    case .unknown: symbol = "?"
    case .skipped: symbol = "–"
    case .pending: symbol = "…"
    }
    return paint(symbol, colour(status))
  }

  static func seconds(_ ms: Int) -> String {
    ms < 1000 ? "\(ms) ms" : String(format: "%.1f s", Double(ms) / 1000)
  }
}
