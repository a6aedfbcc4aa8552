/// The leaf blocks of a CommonMark document in reading order, as cmark sees them.
///
/// This is the only shape in which cmark's tree leaves `MarkdownParser`: plain values with
/// lines of the original file, nothing that points into C memory.
public struct MarkdownDocument: Sendable, Equatable {
  /// One leaf block of the document.
  public enum Block: Sendable, Equatable {
    /// An ATX or setext heading.
    case heading(level: Int, text: String, line: Int)
    /// A fenced or indented code block; `info` is empty for indented blocks.
    case codeBlock(CodeBlock)
    /// A paragraph; `images` lists its images, and `imagesOnly` says nothing else is in it.
    case paragraph(images: [Image], imagesOnly: Bool, lines: ClosedRange<Int>)
    /// Raw HTML, which swallows anything up to the next blank line.
    case html(lines: ClosedRange<Int>)
    /// A thematic break (`---`, `***`).
    case thematicBreak(line: Int)
  }

  /// A code block and where it sits.
  public struct CodeBlock: Sendable, Equatable {
    /// The info string after the opening fence, entities and escapes decoded by cmark.
    public var info: String
    /// The block's content, container indentation removed.
    public var literal: String
    /// The line of the opening fence (or first line of an indented block).
    public var startLine: Int
    /// The line of the closing fence, or of the last line when the fence is never closed.
    public var endLine: Int
    /// Whether a block quote contains the block: such blocks are quoted documentation.
    public var inBlockQuote: Bool

    /// Creates a code block record.
    public init(info: String, literal: String, startLine: Int, endLine: Int, inBlockQuote: Bool) {
      self.info = info
      self.literal = literal
      self.startLine = startLine
      self.endLine = endLine
      self.inBlockQuote = inBlockQuote
    }
  }

  /// An image reference (in a runbook, usually a screenshot of what a command printed).
  public struct Image: Sendable, Equatable {
    /// The image's URL as written.
    public var url: String
    /// The alternative text.
    public var alt: String
    /// The line the image starts on.
    public var line: Int

    /// Creates an image record.
    public init(url: String, alt: String, line: Int) {
      self.url = url
      self.alt = alt
      self.line = line
    }
  }

  /// The leaf blocks in document order.
  public var blocks: [Block]

  /// Creates a document from its blocks.
  public init(blocks: [Block]) { self.blocks = blocks }
}
