import CCmark

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Parses CommonMark with libcmark into a `MarkdownDocument`.
///
/// This is the one file of the project that calls cmark: every string is copied out of the
/// tree before it is freed, and no C pointer leaves this file.
public enum MarkdownParser {
  /// Parses `markdown` (already normalised to LF line endings).
  public static func parse(_ markdown: String) -> MarkdownDocument {
    var utf8 = Array(markdown.utf8)
    let root: OpaquePointer? = utf8.withUnsafeMutableBufferPointer { buffer in
      buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(buffer.count, 1)) {
        cmark_parse_document($0, buffer.count, CMARK_OPT_DEFAULT)
      }
    }
    guard let root else { return MarkdownDocument(blocks: []) }
    defer { cmark_node_free(root) }

    var blocks: [MarkdownDocument.Block] = []
    guard let iterator = cmark_iter_new(root) else { return MarkdownDocument(blocks: []) }
    defer { cmark_iter_free(iterator) }

    var quoteDepth = 0
    while true {
      let event = cmark_iter_next(iterator)
      if event == CMARK_EVENT_DONE { break }
      guard let node = cmark_iter_get_node(iterator) else { continue }
      let type = cmark_node_get_type(node)
      switch (type, event) {
      case (CMARK_NODE_BLOCK_QUOTE, CMARK_EVENT_ENTER): quoteDepth += 1
      case (CMARK_NODE_BLOCK_QUOTE, CMARK_EVENT_EXIT): quoteDepth -= 1
      case (CMARK_NODE_HEADING, CMARK_EVENT_ENTER):
        blocks.append(
          .heading(
            level: Int(cmark_node_get_heading_level(node)),
            text: inlineText(node),
            line: Int(cmark_node_get_start_line(node))))
      case (CMARK_NODE_CODE_BLOCK, CMARK_EVENT_ENTER):
        blocks.append(
          .codeBlock(
            MarkdownDocument.CodeBlock(
              info: string(cmark_node_get_fence_info(node)),
              literal: string(cmark_node_get_literal(node)),
              startLine: Int(cmark_node_get_start_line(node)),
              endLine: Int(cmark_node_get_end_line(node)),
              inBlockQuote: quoteDepth > 0)))
      case (CMARK_NODE_PARAGRAPH, CMARK_EVENT_ENTER):
        let (images, imagesOnly) = paragraphImages(node)
        blocks.append(
          .paragraph(
            images: images, imagesOnly: imagesOnly && !images.isEmpty,
            lines: lineRange(node)))
      case (CMARK_NODE_HTML_BLOCK, CMARK_EVENT_ENTER):
        blocks.append(.html(lines: lineRange(node)))
      case (CMARK_NODE_THEMATIC_BREAK, CMARK_EVENT_ENTER):
        blocks.append(.thematicBreak(line: Int(cmark_node_get_start_line(node))))
      default:
        break
      }
    }
    return MarkdownDocument(blocks: blocks)
  }

  /// Renders `markdown` to HTML with cmark's safe default: raw HTML and dangerous URLs
  /// (`javascript:`) are left out, so a runbook cannot inject script into a report.
  public static func renderHTML(_ markdown: String) -> String {
    var utf8 = Array(markdown.utf8)
    let rendered: UnsafeMutablePointer<CChar>? = utf8.withUnsafeMutableBufferPointer { buffer in
      buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(buffer.count, 1)) {
        cmark_markdown_to_html($0, buffer.count, CMARK_OPT_DEFAULT)
      }
    }
    guard let rendered else { return "" }
    defer { free(rendered) }
    return String(cString: rendered)
  }

  private static func string(_ pointer: UnsafePointer<CChar>?) -> String {
    guard let pointer else { return "" }
    return String(cString: pointer)
  }

  private static func lineRange(_ node: OpaquePointer) -> ClosedRange<Int> {
    let start = Int(cmark_node_get_start_line(node))
    return start...max(start, Int(cmark_node_get_end_line(node)))
  }

  /// The plain text of a heading: text and code spans, breaks as spaces.
  private static func inlineText(_ node: OpaquePointer) -> String {
    var text = ""
    var child = cmark_node_first_child(node)
    while let current = child {
      switch cmark_node_get_type(current) {
      case CMARK_NODE_TEXT, CMARK_NODE_CODE, CMARK_NODE_HTML_INLINE:
        text += string(cmark_node_get_literal(current))
      case CMARK_NODE_SOFTBREAK, CMARK_NODE_LINEBREAK:
        text += " "
      default:
        text += inlineText(current)
      }
      child = cmark_node_next(current)
    }
    return text
  }

  /// The images directly in a paragraph, and whether nothing but images and white space is.
  private static func paragraphImages(_ node: OpaquePointer) -> ([MarkdownDocument.Image], Bool) {
    var images: [MarkdownDocument.Image] = []
    var onlyImages = true
    var child = cmark_node_first_child(node)
    while let current = child {
      switch cmark_node_get_type(current) {
      case CMARK_NODE_IMAGE:
        images.append(
          MarkdownDocument.Image(
            url: string(cmark_node_get_url(current)),
            alt: inlineText(current),
            line: Int(cmark_node_get_start_line(current))))
      case CMARK_NODE_SOFTBREAK, CMARK_NODE_LINEBREAK:
        break
      case CMARK_NODE_TEXT:
        if !string(cmark_node_get_literal(current)).allSatisfy(\.isWhitespace) {
          onlyImages = false
        }
      default:
        onlyImages = false
      }
      child = cmark_node_next(current)
    }
    return (images, onlyImages)
  }
}
