import Foundation
import Testing

@testable import RunbookKit

/// Tricky Markdown and the steps it must yield; broken runbooks and the exact diagnostics.
@Suite struct RunbookCorpusTests {
  /// One line per step (`LINE ID KIND [ROLES] HEADING/PATH screenshots=…`), then one per
  /// diagnostic (`SEVERITY LINE MESSAGE`).
  static func summary(_ runbook: Runbook, _ diagnostics: [Diagnostic]) -> String {
    var lines = runbook.steps.map { step in
      var line =
        "\(step.line) \(step.id) \(step.kind.rawValue) [\(step.attributes.roles.joined(separator: ","))] \(step.headingPath.joined(separator: "/"))"
      if !step.screenshots.isEmpty {
        line += " screenshots=" + step.screenshots.map(\.url).joined(separator: ",")
      }
      return line
    }
    lines += diagnostics.map { "\($0.severity.rawValue) \($0.location?.line ?? 0) \($0.message)" }
    return lines.map { $0 + "\n" }.joined()
  }

  @Test(arguments: Fixtures.files(in: "markdown", extensions: ["md"]))
  func markdownYieldsTheExpectedSteps(file: String) throws {
    let data = try Data(contentsOf: Fixtures.url("markdown/\(file)"))
    let (runbook, diagnostics) = Runbook.parse(String(decoding: data, as: UTF8.self), file: file)
    let expected = try Fixtures.text(
      "markdown/\((file as NSString).deletingPathExtension).expected")
    #expect(Self.summary(runbook, diagnostics) == expected)
  }

  @Test(arguments: Fixtures.files(in: "broken", extensions: ["md"]))
  func brokenRunbookGivesExactDiagnostics(file: String) throws {
    let text = try Fixtures.text("broken/\(file)")
    let (runbook, parseProblems) = Runbook.parse(text, file: file)
    let (_, planProblems) = Planner.plan(runbook, inventory: nil)
    let found = (parseProblems + planProblems).sortedByLocation().map(\.description)
    let expected = try Fixtures.text("broken/\((file as NSString).deletingPathExtension).expected")
      .split(separator: "\n").map(String.init)
    #expect(found == expected)
  }

  @Test func everyMistakeOfTheBrokenCorpusIsAtItsOwnLine() throws {
    let text = try Fixtures.text("broken/many-mistakes.md")
    let (runbook, problems) = Runbook.parse(text, file: "x.md")
    let (_, more) = Planner.plan(runbook, inventory: nil)
    let lines = Set((problems + more).compactMap(\.location?.line))
    #expect(lines == [8, 12, 13, 16, 21, 29, 33, 34, 37, 41])
  }
}

@Suite struct SourceTextTests {
  @Test func frontMatterIsBlankedLineForLine() {
    let source = SourceText("---\ntitle: x\n---\n# H\n")
    #expect(source.frontMatter == "title: x")
    #expect(source.markdown == "\n\n\n# H\n")
  }

  @Test func bomAndCRLFAreNormalised() {
    let source = SourceText("\u{FEFF}a\r\nb\rc\n")
    #expect(source.text == "a\nb\nc\n")
  }

  @Test func unterminatedFrontMatterIsReported() {
    let (_, diagnostics) = Runbook.parse("---\ntitle: x\n# H\n", file: "f.md")
    #expect(
      diagnostics.map(\.description) == [
        "f.md:1: error: front matter opened with '---' is never closed; end it with a '---' line"
      ])
  }

  @Test func emptyFileHasNoSteps() {
    let (runbook, diagnostics) = Runbook.parse("", file: "e.md")
    #expect(runbook.steps.isEmpty)
    #expect(diagnostics.isEmpty)
    #expect(runbook.title == "e")
  }

  @Test func tenMegabyteFileKeepsLineNumbers() {
    let section =
      "## Section\n\nSome prose that fills the file.\n\n```sh {role=web}\necho step\n```\n\n"
    let count = 10 * 1024 * 1024 / section.utf8.count + 1
    let text = String(repeating: section, count: count)
    let (runbook, diagnostics) = Runbook.parse(text, file: "big.md")
    #expect(diagnostics.isEmpty)
    #expect(runbook.steps.count == count)
    #expect(runbook.steps.last?.line == (count - 1) * 8 + 5)
    #expect(runbook.steps.last?.id == "section-\(count)")
  }
}
