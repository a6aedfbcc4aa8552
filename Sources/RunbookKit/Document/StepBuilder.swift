import Foundation

/// Why a code block is documentation and does not run.
enum DocumentationReason: String, CaseIterable, Sendable {
  case indented = "indented (an indented block cannot carry attributes)"
  case noAttributes = "fenced without {attributes}"
  case inBlockQuote = "in a block quote"
  case runme = "left out by their Runme attributes (background, ignore, transform)"
  case notRunnable = "in a language Runme does not run either (Markdown, data, console, SQL, Go…)"
}

/// Turns cmark's leaf blocks into headings and validated steps, collecting every problem.
struct StepBuilder {
  let file: String
  let lines: LineIndex
  private(set) var headings: [Runbook.Heading] = []
  private(set) var steps: [Step] = []
  private(set) var diagnostics: [Diagnostic] = []
  /// The heading stack: level and text of each open section.
  private var path: [(level: Int, text: String)] = []
  /// Code blocks that are not steps, with why: a guide whose blocks all stay documentation
  /// must not pass as a runbook with nothing to do.
  private(set) var documentation: [(line: Int, reason: DocumentationReason)] = []
  /// Shell blocks whose `$ ` prompts were taken off, by line: one note names them all.
  private var promptStripped: [Int] = []
  /// Runme attributes that concern Runme's editor, with the first line of each.
  private var runmeIgnored: [String: Int] = [:]
  /// Fences with words between the language and `{`, by line, with the words.
  private var ignoredWords: [(line: Int, words: String)] = []
  /// Runme cells without a language, which run as shell, by line.
  private var languageless: [Int] = []
  /// Cells of a Runme document that have no attributes (Runme runs every block).
  private var bareCells: Set<Int> = []
  /// Lines of SQL transcripts that are the client's output, left out of the statements.
  private var transcriptOutput: [Int] = []
  /// The document is Runme's (its front matter has `runme:`, or a block Runme's attributes):
  /// then any block without a role runs on the default role.
  var runmeDocument = false
  /// A Runme document's `shell:`: `bash` makes its `sh` blocks bash steps.
  var runmeShell: String?
  /// A Runme document's `category`/`tag`: tags of every cell.
  var runmeTags: [String] = []
  /// Steps without a role, which are errors unless the document is Runme's.
  private var roleless: [Int] = []
  /// The step the next image-only paragraph belongs to: the last step of the current
  /// section, until a heading or a thematic break (prose, lists and documentation blocks
  /// in between do not end it: guides put a sentence between a command and its screenshot).
  private var screenshotOwner: Int?

  init(file: String, text: String) {
    self.file = file
    self.lines = LineIndex(text)
  }

  mutating func add(_ block: MarkdownDocument.Block) {
    switch block {
    case .heading(let level, let text, let line):
      headings.append(Runbook.Heading(level: level, text: text, line: line))
      while let last = path.last, last.level >= level { path.removeLast() }
      path.append((level, text))
      screenshotOwner = nil
    case .codeBlock(let code):
      // A step becomes the owner of the screenshots after it; documentation blocks do not.
      addCodeBlock(code)
    case .paragraph(let images, let imagesOnly, _):
      guard imagesOnly, let first = images.first else { break }
      if let owner = screenshotOwner {
        steps[owner].screenshots += images
      } else {
        diagnostics.append(
          .warning(
            file, first.line,
            "image '\(first.alt)' attaches to no step: an image-only paragraph is a screenshot of the nearest step before it in the same section; move it after the step whose output it shows, or put words beside it to keep it as an illustration"
          ))
      }
    case .html(let range):
      // A fence in an HTML comment was commented out on purpose; one in another HTML block
      // was most likely swallowed by it.
      let comment =
        range.first.map { $0 <= lines.count && lines[$0].trimmingWhitespace().hasPrefix("<!--") }
        ?? false
      for line in range where line <= lines.count {
        let text = lines[line].trimmingWhitespace()
        if text.hasPrefix("```") || text.hasPrefix("~~~"), text.contains("{") {
          diagnostics.append(
            comment
              ? .note(
                file, line,
                "this fence is inside an HTML comment: it is commented out and does not run")
              : .warning(
                file, line,
                "this fence is inside an HTML block, which CommonMark ends only at a blank line, so it does not run; put a blank line before it"
              ))
        }
      }
    case .thematicBreak:
      screenshotOwner = nil
    }
  }

  private mutating func error(_ line: Int, _ message: String) {
    diagnostics.append(.error(file, line, message))
  }

  private mutating func addCodeBlock(_ code: MarkdownDocument.CodeBlock) {
    var list: AttributeList
    do {
      // An indented block has no info string (its first line may show a fence as text).
      let info = code.info.isEmpty ? "" : rawInfo(code) ?? code.info
      if let parsed = try AttributeList.parse(info: info) {
        list = parsed
      } else if let cell = runmeCell(code, info: info) {
        list = cell
      } else {
        let fenced = isFence(code.startLine)
        let reason: DocumentationReason =
          code.inBlockQuote
          ? .inBlockQuote
          : !fenced ? .indented : runmeDocument ? .notRunnable : .noAttributes
        documentation.append((code.startLine, reason))
        return
      }
    } catch {
      if !code.inBlockQuote { self.error(code.startLine, error.message) }
      return
    }
    if code.inBlockQuote {
      diagnostics.append(
        .warning(
          file, code.startLine,
          "annotated block inside a block quote is documentation and does not run; move it out of the quote to run it"
        ))
      return
    }
    if !isClosingFence(code.endLine) || code.endLine == code.startLine {
      error(
        code.startLine,
        "code fence is never closed, so it swallows the rest of its section; close it with a matching fence line"
      )
    }

    if let words = list.ignoredWords { ignoredWords.append((code.startLine, words)) }
    var (attributes, problems) = StepAttributes.validate(list)
    for problem in problems { error(code.startLine, problem) }
    let runme = runmeDocument || attributes.runme
    if runme, list.language.isEmpty, attributes.file == nil {
      // Runme runs a cell without a language as shell.
      list.language = "sh"
      languageless.append(code.startLine)
      if let first = Self.firstCommandLine(code.literal), !Self.looksLikeCommand(first) {
        diagnostics.append(
          .warning(
            file, code.startLine,
            "this cell has no language and does not start with a command ('\(TerminalText.visible(String(first.prefix(40))))'): it runs as shell, as Runme would run it; if it is output or a file's text, give it a language such as ```text"
          ))
      }
    }
    if runme, bareCells.contains(code.startLine) { attributes.runme = true }
    if runme { attributes.tags += runmeTags.filter { !attributes.tags.contains($0) } }
    // A Runme document's `shell:` other than sh or bash (zsh, ksh, fish) runs its shell
    // cells with that shell, each in a process of its own.
    if runmeDocument, let shell = runmeShell.map({ ($0 as NSString).lastPathComponent }),
      !["sh", "bash", "dash"].contains(shell), attributes.interpreter == nil,
      StepKind.shellLanguages[list.language.lowercased()] != nil
    {
      attributes.interpreter = shell
    }
    if runme, attributes.file == nil, attributes.runmeSkip == nil,
      StepKinds.classify(
        BlockFacts(
          language: list.language.lowercased(), attributes: attributes, runmeShell: runmeShell))
        == nil
    {
      documentation.append((code.startLine, .notRunnable))
      return
    }
    for key in attributes.runmeIgnored where runmeIgnored[key] == nil {
      runmeIgnored[key] = code.startLine
    }
    if attributes.runmeSkip != nil {
      documentation.append((code.startLine, .runme))
      return
    }
    let kind = classify(list.language, attributes, body: code.literal, line: code.startLine)
    if kind == .console, !code.literal.split(separator: "\n").contains(where: { isPrompt($0) }) {
      error(
        code.startLine,
        "console transcript has no command line; start commands with '$ ' (or '# ' for root)")
    }
    var body = code.literal
    var prompts: [PromptedVariable] = []
    let shells: Set<String> = ["zsh", "ksh", "fish"]
    let otherShell =
      kind == .program
      && shells.contains(
        attributes.interpreter ?? StepKind.interpreterLanguages[list.language.lowercased()] ?? "")
    if kind == .shell || kind == .bash || otherShell, !attributes.raw {
      body = promptsStripped(body, line: code.startLine, runme: attributes.runme || runmeDocument)
      if attributes.promptEnv, attributes.runme || runmeDocument {
        (body, prompts) = PromptedVariable.extract(from: body, firstLine: code.startLine + 1)
      }
    }
    if let kind, kind.handler.runsCommands, kind != .manual, kind != .console,
      !Self.holdsCommand(body)
    {
      if bareCells.contains(code.startLine) {
        documentation.append((code.startLine, .notRunnable))
      } else {
        error(
          code.startLine,
          "this block holds no command, only comments or nothing, so there is nothing to run; write the command, or drop the attributes to keep it as documentation"
        )
      }
      return
    }
    if kind == .sql {
      transcriptOutput += SQLTranscript(body).outputLines.map { code.startLine + $0 }
    }
    var step = Step(
      id: attributes.name ?? "", index: steps.count, language: list.language,
      kind: kind ?? .shell,
      attributes: attributes, body: body, line: code.startLine, endLine: code.endLine,
      headingPath: path.map(\.text))
    step.prompts = prompts
    steps.append(step)
    screenshotOwner = steps.count - 1
  }

  /// A fenced block without attributes in a Runme document is a cell, as Runme runs every
  /// block it can: one in a shell or a language with an interpreter (no language: shell).
  /// Anything else (Markdown, data, a block quote, an indented block) stays documentation.
  private mutating func runmeCell(_ code: MarkdownDocument.CodeBlock, info: String)
    -> AttributeList?
  {
    guard runmeDocument, !code.inBlockQuote, isFence(code.startLine) else { return nil }
    let language = String(info.prefix { !$0.isWhitespace })
    let facts = BlockFacts(
      language: language.isEmpty ? "sh" : language.lowercased(), attributes: StepAttributes(),
      runmeShell: runmeShell)
    guard let kind = StepKinds.classify(facts), kind.handler.runsCommands,
      ![.console, .sql, .manual].contains(kind)
    else { return nil }
    bareCells.insert(code.startLine)
    return AttributeList(language: language, entries: [])
  }

  /// The first line of `body` that is not blank or a comment, prompt (`$ `, `% `) taken off.
  static func firstCommandLine(_ body: String) -> String? {
    for line in TextLines.split(body) {
      var text = line.trimmingWhitespace()
      if text.isEmpty || text.hasPrefix("#") { continue }
      if text.hasPrefix("$ ") || text.hasPrefix("% ") { text = String(text.dropFirst(2)) }
      return text
    }
    return nil
  }

  /// Whether `line` starts as a command line does: a word that can name a program or
  /// start a shell construct, not a date, a number, a prompt (`mysql>`) or a label (`INFO:`).
  static func looksLikeCommand(_ line: String) -> Bool {
    let word = line.prefix { !$0.isWhitespace }
    guard let first = word.first, first.isLetter || "_./~([$\"'{!".contains(first) else {
      return false
    }
    return !word.hasSuffix(">") && !word.hasSuffix(":")
  }

  /// Whether `body` has a line that is not blank and not a comment (`#`, SQL's `--`).
  static func holdsCommand(_ body: String) -> Bool {
    TextLines.split(body).contains { line in
      let text = line.trimmingWhitespace()
      return !text.isEmpty && !text.hasPrefix("#") && !text.hasPrefix("--")
    }
  }

  private func isPrompt(_ line: Substring) -> Bool {
    line.hasPrefix("$ ") || line.hasPrefix("# ") || line == "$" || line == "#"
  }

  /// A shell block copied from a terminal (`$ apt update`) runs with its prompts taken
  /// off line by line, as Runme does; here-document bodies, continuation lines and comments
  /// are left as they are. Lines without a prompt that are none of these run as commands
  /// too: if they are the output a terminal showed, the block is better a `console` one,
  /// and a warning says so.
  private mutating func promptsStripped(_ body: String, line: Int, runme: Bool) -> String {
    var prompted = 0
    var other = 0
    var continued = false
    var heredoc: (word: Substring, tabs: Bool)?
    var out: [String] = []
    for text in body.split(separator: "\n", omittingEmptySubsequences: false) {
      if let open = heredoc {
        out.append(String(text))
        if (open.tabs ? text.drop { $0 == "\t" } : text) == open.word { heredoc = nil }
        continue
      }
      let indent = text.prefix { $0 == " " || $0 == "\t" }
      var command = text.dropFirst(indent.count)
      if continued {
        out.append(String(text))
      } else if command == "$" || command.hasPrefix("$ ") || command.hasPrefix("% ") {
        // `% ` is zsh's prompt, as guides written on a Mac copy it.
        prompted += 1
        command = command.dropFirst(command == "$" ? 1 : 2)
        out.append(String(indent) + command)
      } else {
        if !command.isEmpty, !command.hasPrefix("#") { other += 1 }
        out.append(String(text))
      }
      continued = command.hasSuffix("\\")
      heredoc = Self.hereDocument(opening: command)
    }
    guard prompted > 0 else { return body }
    // Outside a Runme document, a block whose other lines would run as commands is not run
    // on a guess: the author says which it is.
    if other > 0, !runme {
      error(
        line,
        "this shell block has lines with a '$ ' or '% ' prompt (\(prompted)) and lines without one that are not comments or here-documents (\(other)), which would run as commands too; if they are the output a terminal showed, make it a ```console block (the output is then checked), else take the prompts off"
      )
      return body
    }
    if other > 0 {
      diagnostics.append(
        .warning(
          file, line,
          "this shell block has lines with a '$ ' or '% ' prompt (\(prompted)), taken off as Runme does, and lines without one that are not comments or here-documents (\(other)), which run as commands too; if they are the output a terminal showed, make it a ```console block (the output is then checked)"
        ))
    } else {
      promptStripped.append(line)
    }
    return out.joined(separator: "\n")
  }

  /// The word that ends a here-document `line` opens (`<<EOF`, `<<-'EOF'`), and whether
  /// leading tabs are taken off before it (`<<-`); nil when it opens none.
  static func hereDocument(opening line: Substring) -> (word: Substring, tabs: Bool)? {
    guard let range = line.range(of: "<<"), !line[range.upperBound...].hasPrefix("<") else {
      return nil
    }
    var rest = line[range.upperBound...]
    let tabs = rest.hasPrefix("-")
    if tabs { rest = rest.dropFirst() }
    rest = rest.drop { $0 == " " }
    if let quote = rest.first, quote == "'" || quote == "\"" { rest = rest.dropFirst() }
    let word = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
    return word.isEmpty ? nil : (word, tabs)
  }

  /// Whether `word` is `NAME=value` with a variable name.
  static func isEnvAssignment(_ word: String) -> Bool {
    guard let equals = word.firstIndex(of: "=") else { return false }
    return Template.isIdentifier(word[..<equals])
  }

  /// The info string as the author typed it on the fence line. cmark's copy has backslash
  /// escapes and entities already decoded, so `expect="a \"b\""` would reach the attribute
  /// parser as `expect="a "b""`; attributes are read from the line itself.
  private func rawInfo(_ code: MarkdownDocument.CodeBlock) -> String? {
    guard code.startLine >= 1, code.startLine <= lines.count else { return nil }
    let line = lines[code.startLine]
    guard let fence = line.range(of: "```") ?? line.range(of: "~~~") else { return nil }
    let mark = line[fence.lowerBound]
    let info = line[fence.lowerBound...].drop { $0 == mark }
    return info.trimmingWhitespace()
  }

  /// Whether `line` opens a fence (after container markers such as list items or quotes).
  private func isFence(_ line: Int) -> Bool {
    guard line >= 1, line <= lines.count else { return false }
    let text = lines[line].trimmingWhitespace()
    return text.contains("```") || text.contains("~~~")
  }

  /// Whether `line` is a closing fence: only backticks or tildes, after container markers.
  private func isClosingFence(_ line: Int) -> Bool {
    guard line >= 1, line <= lines.count else { return false }
    let text = lines[line].drop(while: { $0 == " " || $0 == ">" || $0 == "\t" })
      .trimmingWhitespace()
    guard text.count >= 3, let first = text.first, first == "`" || first == "~" else {
      return false
    }
    return text.allSatisfy { $0 == first }
  }

  /// Chooses the step kind (the first handler in `StepKinds.all` that claims the block),
  /// reporting combinations that cannot work.
  private mutating func classify(
    _ language: String, _ a: StepAttributes, body: String, line: Int
  ) -> StepKind? {
    let lang = language.lowercased()
    var kind: StepKind?
    if lang.isEmpty {
      error(line, "the fence has attributes but no language; write it as ```sh {...}")
    } else if let claimed = StepKinds.classify(
      BlockFacts(language: lang, attributes: a, runmeShell: runmeShell, body: body))
    {
      kind = claimed
    } else if lang == "ini" {
      error(
        line,
        "an ini block needs file=PATH to say which file it merges into; write ```ini {role=NAME file=/etc/app.conf section=NAME}"
      )
    } else {
      error(
        line,
        "'\(language)' blocks do not run; add file=PATH to write the block to a file, or use sh, bash, console, sql, python, perl, ruby, node or manual"
      )
    }
    validate(a, of: kind, language: lang, line: line)
    return kind
  }

  /// Reports attributes that do not fit the step's kind or cannot be right anywhere.
  private mutating func validate(
    _ a: StepAttributes, of kind: StepKind?, language lang: String, line: Int
  ) {
    if kind != .manual, a.roles.isEmpty, !a.runme { roleless.append(steps.count) }
    let writes = kind?.writesFile ?? false
    if a.file == nil {
      if a.mode != nil { error(line, "'mode' applies to file steps; add file=PATH or remove it") }
      if a.owner != nil { error(line, "'owner' applies to file steps; add file=PATH or remove it") }
      if a.append { error(line, "'append' needs file=PATH to know where to append") }
    } else if kind == .manual {
      error(line, "a manual step does not write files; remove file=")
    } else if a.file == "TODO" {
      error(
        line,
        "file=TODO was left by runbook init: the notes do not name the file this configuration goes into; write its absolute path"
      )
    } else if let path = a.file, !path.hasPrefix("/"), !path.hasPrefix("{{"), !path.hasPrefix("~/")
    {
      error(
        line,
        path.hasPrefix("~")
          ? "file=\(path): only ~/ (the home of the user the step runs as) is read; write another user's file by its absolute path"
          : "file=\(path) must be an absolute path, or start with ~/ (targets have no shared working directory)"
      )
    }
    if a.section != nil, kind != .iniMerge {
      error(line, "'section' applies to ini merges; use ```ini {file=PATH section=NAME}")
    }
    if a.create, kind != .iniMerge {
      error(
        line,
        "'create' applies to ini merges (a file step always writes its file, an append creates it); remove it"
      )
    }
    if a.append, lang == "ini" {
      error(line, "'append' and an ini merge exclude each other; choose one")
    }
    if a.client != nil, kind != .sql { error(line, "'client' applies to sql steps only") }
    if let kind, !kind.handler.runsCommands {
      if a.cwd != nil { error(line, "'cwd' applies to steps that run commands; remove it") }
      if a.env != nil { error(line, "'env' applies to steps that run commands; remove it") }
    }
    if writes, a.capture != nil {
      error(line, "'capture' needs a command's output; a file step prints nothing")
    }
    if writes, a.expect != nil {
      error(line, "'expect' checks a command's output; a file step prints nothing")
    }
    validateValues(a, line: line)
  }

  /// Reports attribute values that cannot be right for any kind.
  private mutating func validateValues(_ a: StepAttributes, line: Int) {
    if let interpreter = a.interpreter,
      interpreter.isEmpty
        || !interpreter.allSatisfy({ $0.isLetter || $0.isNumber || "_./+- ".contains($0) })
    {
      error(
        line,
        "interpreter=\(interpreter) must be a command with its options (letters, digits, '_./+-' and spaces), like interpreter=python3.11"
      )
    }
    if let env = a.env {
      if let words = a.envWords {
        for word in words where !Self.isEnvAssignment(word) {
          error(
            line,
            "env holds NAME=value words, like env=\"LANG=C APP_ENV=prod\"; '\(word)' is not one")
        }
      } else {
        error(line, "env=\(env) has an unclosed quote; close it, like env=\"A='two words'\"")
      }
    }
    // A pattern without variables can be checked now rather than fail on the host.
    if let pattern = a.expect, !pattern.contains("{{") {
      do {
        _ = try NSRegularExpression(pattern: pattern)
      } catch {
        self.error(
          line,
          "expect=\(pattern) is not a valid regular expression; escape special characters such as ( [ { with a backslash"
        )
      }
    }
    // `user=` is handed to sudo as the value of -u: never an option, never two words.
    if let user = a.user, !user.contains("{{"), let why = ArgumentValue.problem(user) {
      error(line, "user=\(TerminalText.visible(user)) is not a user name: \(why)")
    }
  }

  /// Gives every step its id and reports duplicate names.
  mutating func finish() -> ([Runbook.Heading], [Step], [Diagnostic]) {
    if let note = documentationNote() { diagnostics.append(note) }
    if let first = promptStripped.first {
      let count = promptStripped.count
      diagnostics.append(
        .note(
          file, first,
          "\(count == 1 ? "this shell block has" : "\(count) shell blocks have") a '$ ' or '% ' prompt on every command line: the prompts are taken off before \(count == 1 ? "it runs" : "they run")"
            + Self.lineList(promptStripped)))
    }
    if runmeDocument || steps.contains(where: \.attributes.runme) {
      for index in roleless { steps[index].attributes.runme = true }
    } else {
      for index in roleless {
        error(
          steps[index].line,
          "step has no role; add role=NAME (an inventory group, such as role=controller)")
      }
    }
    if let first = ignoredWords.first {
      let shown = Set(ignoredWords.map(\.words)).sorted().prefix(3).map { "'\($0)'" }
      diagnostics.append(
        .note(
          file, first.line,
          "words between a fence's language and '{' say how a site shows the block (MkDocs, Docusaurus) and are ignored: "
            + shown.joined(separator: ", ") + Self.lineList(ignoredWords.map(\.line))))
    }
    if let first = transcriptOutput.first {
      diagnostics.append(
        .warning(
          file, first,
          "\(transcriptOutput.count == 1 ? "this line" : "\(transcriptOutput.count) lines") of SQL typed at a client's prompt \(transcriptOutput.count == 1 ? "is" : "are") the client's output, not statements: left out, not sent to the client"
            + Self.lineList(transcriptOutput)))
    }
    if let first = languageless.first {
      diagnostics.append(
        .note(
          file, first,
          "\(languageless.count == 1 ? "this cell has" : "\(languageless.count) cells have") no language: \(languageless.count == 1 ? "it runs" : "they run") as shell (sh), as Runme runs them"
            + Self.lineList(languageless)))
    }
    if let line = runmeIgnored.values.min() {
      diagnostics.append(
        .note(
          file, line,
          "Runme attributes that concern Runme's editor are ignored: "
            + runmeIgnored.keys.sorted().joined(separator: ", ")))
    }
    // Runme's names where every step is a Runme cell, as Runme would list them.
    if runmeDocument || (!steps.isEmpty && steps.allSatisfy(\.attributes.runme)) {
      nameRunmeCells()
      return (headings, steps, diagnostics)
    }
    var firstUse: [String: Int] = [:]
    for step in steps {
      guard let name = step.attributes.name else { continue }
      if !Self.isValidID(name) {
        error(
          step.line,
          "step name '\(name)' may hold only letters, digits, '.', '_' and '-'; write it like name=keystone-db"
        )
      }
      if let first = firstUse[name] {
        error(
          step.line,
          "step name '\(name)' is already used at line \(first); step names must be unique")
      } else {
        firstUse[name] = step.line
      }
    }
    var derivedCount: [String: Int] = [:]
    for i in steps.indices where steps[i].attributes.name == nil {
      let base = Self.derivedID(steps[i])
      var id = base
      repeat {
        derivedCount[base, default: 0] += 1
        let n = derivedCount[base, default: 1]
        id = n == 1 ? base : "\(base)-\(n)"
      } while firstUse[id] != nil
      firstUse[id] = steps[i].line
      steps[i].id = id
    }
    return (headings, steps, diagnostics)
  }

  /// Names the cells of a Runme document as Runme does: the given name, else one made from
  /// the first command (`runme run` finds them by it), a name used before taking `-2`,
  /// `-3`…; a name that cannot be an id here has its other characters made `-`.
  private mutating func nameRunmeCells() {
    var count: [String: Int] = [:]
    var used: Set<String> = []
    var renamed: [(line: Int, from: String, to: String)] = []
    for i in steps.indices {
      let given = steps[i].attributes.name
      var name = given ?? Self.runmeName(steps[i].body)
      if name.isEmpty { name = Self.derivedID(steps[i]) }
      if !Self.isValidID(name) {
        let fixed = String(name.map { Self.isValidID(String($0)) ? $0 : "-" })
        renamed.append((steps[i].line, name, fixed))
        name = fixed
      }
      var id = name
      repeat {
        count[name, default: 0] += 1
        id = count[name]! == 1 ? name : "\(name)-\(count[name]!)"
      } while used.contains(id)
      used.insert(id)
      if let given, id != given, Self.isValidID(given) {
        renamed.append((steps[i].line, given, id))
      }
      steps[i].id = id
    }
    if let first = renamed.first {
      diagnostics.append(
        .note(
          file, first.line,
          "Runme cell names made ids, as Runme tells them apart: "
            + renamed.prefix(4).map { "'\($0.from)' → '\($0.to)' (line \($0.line))" }
            .joined(separator: ", ") + (renamed.count > 4 ? ", …" : "")))
    }
  }

  /// The name Runme gives a cell without one: its first line that is not a comment, cut
  /// before a `=` (an assignment names its variable), to 32 bytes and two words, lower
  /// case, letters and digits only, the words joined by `-`.
  static func runmeName(_ body: String) -> String {
    let lines = TextLines.split(body)
    let commands = lines.compactMap { line -> String? in
      let text = line.trimmingWhitespace()
      let code = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
      return code.isEmpty ? nil : String(code).trimmingWhitespace()
    }
    var text = commands.first ?? lines.first ?? ""
    if let equals = text.firstIndex(of: "="), equals > text.startIndex {
      text = String(text[..<equals])
    }
    text = String(decoding: Array(text.utf8.prefix(32)), as: UTF8.self)
    let words = text.split(separator: " ", omittingEmptySubsequences: false)
    text = words.prefix(2).joined(separator: " ")
    var name = ""
    for scalar in text.lowercased().unicodeScalars {
      if scalar == " " {
        if !name.isEmpty { name += "-" }
      } else if ("0"..."9").contains(scalar) || ("a"..."z").contains(scalar) {
        name.unicodeScalars.append(scalar)
      }
    }
    return name
  }

  /// The id of a step without `name=`: its nearest heading, then what it does — the file it
  /// writes, or the first words of its first line. Never its position: a step inserted,
  /// removed or moved elsewhere changes no other step's id (`--resume` would run that step
  /// again, and an `append` step would add its block twice under new markers). Only steps
  /// that agree in all of this are told apart by their order (`-2`).
  static func derivedID(_ step: Step) -> String {
    let heading = slug(step.headingPath.last ?? "step")
    let what: String
    if step.kind.writesFile, let file = step.attributes.file {
      what = slug((file as NSString).lastPathComponent)
    } else {
      // The first line that is not blank or a comment, up to its fourth word (bytes: this
      // runs for every step of every runbook read).
      let body = step.body.utf8
      var start = body.startIndex
      var first: Substring.UTF8View = ""[...].utf8
      while start < body.endIndex {
        let end = body[start...].firstIndex(of: UInt8(ascii: "\n")) ?? body.endIndex
        let line = body[start..<end].drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        if let head = line.first, head != UInt8(ascii: "#") {
          first = Substring(line).utf8
          break
        }
        start = end < body.endIndex ? body.index(after: end) : end
      }
      var spaces = 0
      let words = first.prefix { byte in
        if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { spaces += 1 }
        return spaces < 3
      }
      what = slug(Substring(words))
    }
    let words = what.split(separator: "-").prefix(4).joined(separator: "-")
    let short = String(words.prefix(32)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    return short.isEmpty || short == "step" ? heading : heading + "-" + short
  }

  /// One diagnostic for the code blocks that do not run, grouped by why, with their lines
  /// (a warning when no block runs at all).
  private func documentationNote() -> Diagnostic? {
    guard let first = documentation.first else { return nil }
    let groups = DocumentationReason.allCases.compactMap { reason -> String? in
      let lines = documentation.filter { $0.reason == reason }.map(\.line)
      guard !lines.isEmpty else { return nil }
      return "\(lines.count) \(reason.rawValue)" + Self.lineList(lines)
    }
    let count = documentation.count
    var message =
      "\(count) code block\(count == 1 ? " is" : "s are") documentation, not steps: "
      + groups.joined(separator: "; ")
    if steps.isEmpty {
      message +=
        "; nothing here runs: fence the blocks that should run and annotate them, like ```sh {role=web}"
      return .warning(file, first.line, message)
    }
    return .note(file, first.line, message)
  }

  /// ` (lines 3, 9, …)`: the first eight lines of a list.
  static func lineList(_ lines: [Int]) -> String {
    let shown = lines.prefix(8).map(String.init).joined(separator: ", ")
    return " (line\(lines.count == 1 ? "" : "s") \(shown)\(lines.count > 8 ? ", …" : ""))"
  }

  static func isValidID(_ id: String) -> Bool {
    !id.isEmpty && id.allSatisfy { $0.isLetter || $0.isNumber || "._-".contains($0) }
  }

  /// A lower-case id from heading text: letters and digits kept, anything else one '-'.
  static func slug<S: StringProtocol>(_ text: S) -> String {
    // ASCII on bytes: ids are made for every step of every runbook read, and most headings
    // and commands are ASCII.
    if text.utf8.allSatisfy({ $0 < 0x80 }) {
      var bytes: [UInt8] = []
      var dash = false
      for byte in text.utf8 {
        let lower = (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
        if (0x61...0x7A).contains(lower) || (0x30...0x39).contains(lower) {
          if dash, !bytes.isEmpty { bytes.append(UInt8(ascii: "-")) }
          dash = false
          bytes.append(lower)
        } else {
          dash = true
        }
      }
      return bytes.isEmpty ? "step" : String(decoding: bytes, as: UTF8.self)
    }
    var out = ""
    for c in text.lowercased() {
      if c.isLetter || c.isNumber {
        out.append(c)
      } else if !out.isEmpty, out.last != "-" {
        out.append("-")
      }
    }
    while out.last == "-" { out.removeLast() }
    return out.isEmpty ? "step" : out
  }
}
