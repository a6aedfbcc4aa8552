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

  /// Each corpus found its files: a parameterized test over an empty folder passes by
  /// running nothing.
  @Test(arguments: Fixtures.minimumCorpus.keys.sorted())
  func everyCorpusFoundItsFiles(folder: String) {
    let names =
      (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.url(folder).path)) ?? []
    let minimum = Fixtures.minimumCorpus[folder] ?? 1
    #expect(names.filter { !$0.hasPrefix(".") }.count >= minimum, "\(folder): \(names)")
  }

  @Test(arguments: Fixtures.files(in: "markdown", extensions: ["md"]))
  func markdownYieldsTheExpectedSteps(file: String) throws {
    let data = try Data(contentsOf: Fixtures.url("markdown/\(file)"))
    let (runbook, diagnostics) = Runbook.parse(String(decoding: data, as: UTF8.self), file: file)
    let name = "markdown/\((file as NSString).deletingPathExtension).expected"
    // As the report goldens: recording writes the file and fails, so a run that records
    // proves nothing until it is run again.
    if ProcessInfo.processInfo.environment["RUNBOOK_UPDATE_GOLDEN"] != nil {
      try Self.summary(runbook, diagnostics).write(
        to: Fixtures.url(name), atomically: true, encoding: .utf8)
      Issue.record("recorded \(name); run again without RUNBOOK_UPDATE_GOLDEN")
    }
    let expected = try Fixtures.text(name)
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

  /// Hugo's TOML front matter is read as the YAML it says the same as, line for line.
  @Test func tomlFrontMatterIsReadLineForLine() {
    let (runbook, diagnostics) = Runbook.parse(
      """
      +++
      title = "Deploy"
      tags = ["ops", "db"]
      secrets = ['db_pass']

      [vars]
      port = "8080" # the app's
      workers = 4

      [[menu.main]]
      name = "Deploy"
      [env]
      LANG = "C"
      a.b = 1
      +++

      ```sh {role=web name=x}
      echo {{ port }}
      ```
      """, file: "h.md")
    #expect(runbook.title == "Deploy")
    #expect(runbook.frontMatter.vars["port"] == .string("8080"))
    #expect(runbook.frontMatter.vars["workers"] != nil)
    #expect(runbook.frontMatter.secrets == ["db_pass"])
    #expect(runbook.frontMatter.env.map(\.name) == ["LANG"])
    #expect(runbook.steps.first?.line == 17)
    #expect(
      diagnostics.map(\.description) == [
        "h.md:10: note: TOML front matter: table [[menu.main]] is not runbook's: kept and ignored",
        "h.md:14: error: TOML front matter: dotted key 'a.b' is not read; write it under a [table] header, or use YAML between '---' lines",
        "h.md:3: note: front matter key 'tags' is not runbook's: kept and ignored (runbook reads title, vars, secrets, roles, env, session; --strict refuses other keys)",
      ])
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
    // Steps that agree in heading and first words are told apart by their order.
    #expect(runbook.steps.last?.id == "section-echo-step-\(count)")
  }
}

@Suite struct ScreenshotTests {
  static let text = """
    # Install

    ```sh {role=db name=sync}
    keystone-manage db_sync
    ```

    The tables are there now:

    ```
    MariaDB [keystone]> show tables;
    ```

    ![tables](pic/tables.png)  
    ![more](pic/more.png)

    Some text with an inline ![illustration](pic/ill.png) is not a screenshot.

    ## Verify

    ![orphan](pic/orphan.png)

    ```sh {role=db name=check}
    true
    ```

    ---

    ![after a rule](pic/rule.png)
    """

  @Test func anImageOnlyParagraphBelongsToTheLastStepOfItsSection() {
    let (runbook, diagnostics) = Runbook.parse(Self.text, file: "g.md")
    let sync = runbook.steps.first { $0.id == "sync" }
    // A sentence and a documentation block between the step and its screenshots.
    #expect(sync?.screenshots.map(\.url) == ["pic/tables.png", "pic/more.png"])
    #expect(sync?.screenshots.map(\.line) == [13, 14])
    #expect(runbook.steps.first { $0.id == "check" }?.screenshots.isEmpty == true)
    // A heading ends the attachment, and so does a thematic break.
    let warnings = diagnostics.filter { $0.severity == .warning }.map(\.description)
    #expect(warnings.count == 2, "\(warnings)")
    #expect(
      warnings.first?.hasPrefix("g.md:20: warning: image 'orphan' attaches to no step") == true)
    #expect(warnings.last?.hasPrefix("g.md:28: warning: image 'after a rule'") == true)
  }

  @Test func listJSONNamesEachStepsScreenshots() throws {
    let (runbook, _) = Runbook.parse(Self.text, file: "g.md")
    let json = try JSONSerialization.jsonObject(with: Data(runbook.stepListJSON().utf8))
    let steps = (json as? [String: Any])?["steps"] as? [[String: Any]]
    let shots = steps?.first?["screenshots"] as? [[String: Any]]
    #expect(shots?.count == 2)
    #expect(shots?.first?["url"] as? String == "pic/tables.png")
    #expect(shots?.first?["alt"] as? String == "tables")
    #expect(shots?.first?["line"] as? Int == 13)
  }
}

@Suite struct ForeignGuideTests {
  @Test func aGuideWhoseBlocksAllStayDocumentationSaysSo() {
    let (runbook, diagnostics) = Runbook.parse(
      "# Tutorial\n\n    apt update\n\n```\nls\n```\n\n> ```sh\n> echo quoted\n> ```\n",
      file: "t.md")
    #expect(runbook.steps.isEmpty)
    #expect(
      diagnostics.map(\.description) == [
        "t.md:3: warning: 3 code blocks are documentation, not steps: 1 indented (an indented block cannot carry attributes) (line 3); 1 fenced without {attributes} (line 5); 1 in a block quote (line 9); nothing here runs: fence the blocks that should run and annotate them, like ```sh {role=web}"
      ])
  }

  @Test func aBlockWithNothingToRunIsAnErrorAndACommentedOutFenceANote() {
    let (runbook, diagnostics) = Runbook.parse(
      """
      ```sh {role=web name=empty}
      # only a comment
      ```

      <!--
      ```sh {role=web name=old}
      echo commented out
      ```
      -->

      ```text {role=web file=~/notes.txt}
      kept in the home of the user the step runs as
      ```

      ```text {role=web file=~admin/notes.txt}
      x
      ```
      """, file: "t.md")
    #expect(runbook.steps.map(\.attributes.file) == ["~/notes.txt", "~admin/notes.txt"])
    #expect(
      diagnostics.sortedByLocation().map(\.description) == [
        "t.md:1: error: this block holds no command, only comments or nothing, so there is nothing to run; write the command, or drop the attributes to keep it as documentation",
        "t.md:6: note: this fence is inside an HTML comment: it is commented out and does not run",
        "t.md:15: error: file=~admin/notes.txt: only ~/ (the home of the user the step runs as) is read; write another user's file by its absolute path",
      ])
  }

  @Test func anIndentedBlockShowingAFenceStaysDocumentation() {
    let (runbook, _) = Runbook.parse(
      "How to write a step:\n\n    ```sh {role=web}\n    echo hi\n    ```\n", file: "t.md")
    #expect(runbook.steps.isEmpty)
  }

  @Test func attributeEscapesWorkAsTypedInTheMarkdownFile() {
    let (runbook, diagnostics) = Runbook.parse(
      #"""
      ```sh {role=web name=q expect="say \"hi\" \\ bye" unless='test -f "/a b"'}
      true
      ```
      ```sh {role=web name=bad expect=say "hi"}
      true
      ```
      """#, file: "t.md")
    #expect(runbook.steps.first?.attributes.expect == #"say "hi" \ bye"#)
    #expect(runbook.steps.first?.attributes.unless == #"test -f "/a b""#)
    #expect(
      diagnostics.map(\.description) == [
        #"t.md:4: error: unexpected '"' in attribute list; attributes are key=value, key="value" or a bare flag; a quote belongs inside a quoted value: key="say \"hi\"" or key='say "hi"'"#
      ])
  }

  @Test func promptsOfACopiedTerminalAreTakenOffAndAMixIsAnError() {
    let (runbook, diagnostics) = Runbook.parse(
      """
      ```sh {role=web name=copied}
      $ apt update
      $ apt install -y \\
          nginx
        $ systemctl start nginx
      ```
      ```sh {role=web name=mixed}
      $ nginx -v
      nginx version: nginx/1.22.1
      ```
      ```sh {role=web name=raw raw}
      $ kept
      ```
      ```sh {role=web name=heredoc}
      $ cat > /etc/motd <<-'EOF'
      	$ not a prompt: the file's text
      	EOF
      # a comment
      $ cat /etc/motd
      ```
      """, file: "t.md")
    // Prompts come off line by line, as Runme takes them off; a here-document's body and a
    // comment are no lines without a prompt.
    #expect(
      runbook.steps.map(\.body) == [
        "apt update\napt install -y \\\n    nginx\n  systemctl start nginx\n",
        "$ nginx -v\nnginx version: nginx/1.22.1\n", "$ kept\n",
        "cat > /etc/motd <<-'EOF'\n\t$ not a prompt: the file's text\n\tEOF\n# a comment\ncat /etc/motd\n",
      ])
    #expect(
      diagnostics.sortedByLocation().map(\.description) == [
        "t.md:1: note: 2 shell blocks have a '$ ' or '% ' prompt on every command line: the prompts are taken off before they run (lines 1, 14)",
        "t.md:7: error: this shell block has lines with a '$ ' or '% ' prompt (1) and lines without one that are not comments or here-documents (1), which would run as commands too; if they are the output a terminal showed, make it a ```console block (the output is then checked), else take the prompts off",
      ])
  }
}

/// Runme documents read as Runme reads them: every block it can run is a cell, named as
/// Runme names it.
@Suite struct RunmeDialectTests {
  static func parse(_ text: String) -> (Runbook, [String]) {
    let (runbook, diagnostics) = Runbook.parse(text, file: "r.md")
    return (runbook, diagnostics.map(\.description))
  }

  @Test func everyRunnableBlockIsACellNamedAfterItsFirstCommand() {
    let (runbook, diagnostics) = Self.parse(
      """
      ---
      runme:
        version: v3
      ---

      ```sh
      $ echo "Hello, runme!"
      ```

      ```
      # a comment first
      echo "Hello, runme!"
      ```

      ```sh {"name":"dup"}
      echo one
      ```

      ```sh {"name":"dup"}
      echo two
      ```

      ```bash
      export TOKEN_PATH=/tmp/x
      ```

      ```md {"id":"01HF"}
      # notes, not a cell
      ```

      ```json
      {"a": 1}
      ```

      ```sh {"name":"hello world"}
      echo spaced
      ```
      """)
    #expect(
      runbook.steps.map(\.id) == [
        "echo-hello", "echo-hello-2", "dup", "dup-2", "export-tokenpath", "hello-world",
      ])
    // A block without a language is shell (in a Runme document, bash, as Runme's $SHELL).
    #expect(runbook.steps[1].kind == .bash)
    #expect(diagnostics.contains { $0.contains("2 in a language Runme does not run") })
    #expect(diagnostics.contains { $0.contains("'dup' → 'dup-2'") })
    #expect(diagnostics.contains { $0.contains("'hello world' → 'hello-world'") })
    #expect(!diagnostics.contains { $0.contains("error") }, "\(diagnostics)")
  }

  @Test func aGuideThatIsNotRunmesKeepsItsBareBlocksAsDocumentation() {
    let (runbook, _) = Self.parse("# Guide\n\n```sh\necho not a step\n```\n")
    #expect(runbook.steps.isEmpty)
    // Runme's JSON attributes make a block a cell even without Runme's front matter.
    let (cells, diagnostics) = Self.parse(
      "```sh {\"name\":\"x\",\"transform\":\"true\",\"newKey\":\"kept\"}\necho x\n```\n")
    #expect(cells.steps.map(\.id) == ["x"])
    #expect(diagnostics.contains { $0.contains("are ignored: newKey") }, "\(diagnostics)")
  }

  @Test func runmesFlagsMeanWhatRunmeMeans() {
    let (runbook, diagnostics) = Self.parse(
      """
      ---
      runme:
        version: v3
      ---
      ```sh {"name":"yes","excludeFromRunAll":"yes"}
      echo yes
      ```
      ```sh {"name":"excluded","excludeFromRunAll":"true"}
      echo excluded
      ```
      ```sh {"name":"ignored","ignore":"true"}
      echo ignored
      ```
      ```sh {"name":"markdown","transform":"false"}
      echo markdown
      ```
      """)
    // Go's ParseBool: "yes" is not true, so that cell runs with the rest.
    #expect(runbook.steps.map(\.id) == ["yes", "excluded"])
    #expect(!runbook.steps[0].attributes.excludedFromRunAll)
    #expect(runbook.steps[1].attributes.excludedFromRunAll)
    #expect(diagnostics.contains { $0.contains("2 left out by their Runme attributes") })
  }

  @Test func theFrontMattersShellCategoryAndCwdAreRunmes() {
    let (zsh, _) = Self.parse(
      "---\nrunme: {}\nshell: zsh\ncategory: solution-2\n---\n\n```sh\necho $0\n```\n")
    #expect(zsh.steps.first?.attributes.interpreter == "zsh")
    #expect(zsh.steps.first?.attributes.tags == ["solution-2"])
    let (plain, _) = Self.parse(
      "---\nrunme: {}\nshell: sh\ncwd: /tmp\n---\n\n```sh\necho $0\n```\n")
    #expect(plain.steps.first?.kind == .shell)
    // Only `runme:` makes a document Runme's, where every block runs: not a blog's
    // category, nor a `shell:` or `cwd:` key.
    for front in ["category: devops", "shell: bash", "cwd: /srv"] {
      let (blog, _) = Self.parse("---\n\(front)\n---\n\n```sh\necho hi\n```\n")
      #expect(blog.steps.isEmpty, "\(front)")
    }
  }

  @Test func wordsBeforeTheBracesAreASitesAndIgnored() {
    let (runbook, diagnostics) = Self.parse(
      "```python title=\"hello.py\" {role=web}\nprint(1)\n```\n\n```bash showLineNumbers {role=web}\necho 1\n```\n"
    )
    #expect(runbook.steps.map(\.kind) == [.program, .bash])
    #expect(
      diagnostics.contains {
        $0.contains("are ignored: 'showLineNumbers', 'title=\"hello.py\"' (lines 1, 5)")
      }, "\(diagnostics)")
  }
}

/// Getting-started sections of real projects' READMEs (Fixtures/readmes, each with its
/// source and licence in its front matter), read as a Runme document: the cells and the
/// documentation each must give are in its `.expected` file
/// (`RUNBOOK_UPDATE_GOLDEN=1` writes them; read the diff before committing it).
@Suite struct READMECorpusTests {
  static let names = Fixtures.files(in: "readmes", extensions: ["md"]).filter {
    $0 != "README.md"
  }

  /// What a reader checks: each cell (line, id, kind, first line as it runs) and every
  /// diagnostic.
  static func reading(_ text: String, file: String) -> String {
    let (runbook, diagnostics) = Runbook.parse(text, file: file)
    var out = runbook.steps.map { step in
      let first = TextLines.split(step.body).first { !$0.trimmingWhitespace().isEmpty } ?? ""
      return "\(step.line)\t\(step.id)\t\(step.kind.rawValue)\t\(first)"
    }
    out.append("--")
    out += diagnostics.sortedByLocation().map(\.description)
    return out.joined(separator: "\n") + "\n"
  }

  @Test func theCorpusIsLargeEnough() {
    #expect(Self.names.count >= 15, "\(Self.names.count) READMEs")
  }

  @Test(arguments: names)
  func aREADMEReadsAsItsAuthorsMeantIt(name: String) throws {
    let text = try Fixtures.text("readmes/" + name)
    let expectedName = "readmes/" + name.replacingOccurrences(of: ".md", with: ".expected")
    let reading = Self.reading(text, file: name)
    if ProcessInfo.processInfo.environment["RUNBOOK_UPDATE_GOLDEN"] != nil {
      try reading.write(to: Fixtures.url(expectedName), atomically: true, encoding: .utf8)
    }
    #expect(reading == (try Fixtures.text(expectedName)))
    // Without Runme's front matter, a README's bare blocks are documentation: nothing runs.
    let body = text.components(separatedBy: "\n---\n").dropFirst().joined(separator: "\n---\n")
    #expect(Runbook.parse(body, file: name).0.steps.isEmpty)
  }
}
