/// One executable block of a runbook: an annotated fence, with where it sits and what it asks.
public struct Step: Sendable, Equatable {
  /// The stable id: `name=` when given, otherwise derived from the nearest heading.
  public var id: String
  /// The 0-based position of the step among the runbook's steps.
  public var index: Int
  /// The language word of the fence (`sh`, `console`, `ini`, …).
  public var language: String
  /// What the step does.
  public var kind: StepKind
  /// The validated attributes.
  public var attributes: StepAttributes
  /// The block's content as written (before variable substitution).
  public var body: String
  /// The line of the opening fence.
  public var line: Int
  /// The line of the closing fence.
  public var endLine: Int
  /// The headings above the step, outermost first.
  public var headingPath: [String]
  /// The images (screenshots of output) that directly follow the block.
  public var screenshots: [MarkdownDocument.Image]
  /// What a Runme block's `export` lines ask the operator for (`promptEnv`).
  public var prompts: [PromptedVariable] = []

  /// Creates a step.
  public init(
    id: String, index: Int, language: String, kind: StepKind, attributes: StepAttributes,
    body: String, line: Int, endLine: Int, headingPath: [String],
    screenshots: [MarkdownDocument.Image] = []
  ) {
    self.id = id
    self.index = index
    self.language = language
    self.kind = kind
    self.attributes = attributes
    self.body = body
    self.line = line
    self.endLine = endLine
    self.headingPath = headingPath
    self.screenshots = screenshots
  }

  /// The line of the body's first line (the line after the opening fence).
  public var bodyLine: Int { line + 1 }
}
