/// What an executor reports while it runs, for a terminal view (the journal is the record).
public enum RunEvent: Sendable {
  /// A step starts on these hosts.
  case stepStarted(ordinal: Int, total: Int, step: Step, hosts: [String])
  /// Output arrived from a host (masked; may be several lines).
  case output(host: String, text: String)
  /// A host finished the current step.
  case hostFinished(StepRecord)
}
