extension NotesConverter {
  /// One pass over the notes' blocks, in order: which node each code block runs on, what
  /// kind of step it is, and the fenced step that replaces it.
  struct BlockWalk {
    let lines: [String]
    let environment: NodeList
    let words: [(word: String, role: String)]
    /// The level of the document's title heading, which names no node.
    let titleLevel: Int?
    /// Each node's name, and what it stands for: its role when it is the role's only node.
    let hosts: [(name: String, role: String)]
    var literals: LiteralRewriter
    var report: InitReport
    /// Each replaced block's lines (1-based, fences included) and its new lines.
    private(set) var edits: [(range: ClosedRange<Int>, lines: [String])] = []
    private var headings: [(level: Int, text: String)] = []
    /// A node named in the prose of a section ("On web01:") holds for the blocks after it
    /// in that section, until another is named.
    private var sectionRole: String?
    /// The file the last file step went into ("in the same file").
    private var previousFile: String?
    /// The file an editor opened in the block before, whose content this block is, and
    /// the prose that introduced the editor (it says whether the file is new).
    private var editedFile: (path: String, prose: [String])?
    /// The client whose prompt a block opened (its `client=`, nil for MySQL's), until a
    /// block leaves it or a shell step comes.
    private var openClient: String??

    init(
      lines: [String], environment: NodeList, words: [(word: String, role: String)],
      titleLevel: Int?, literals: LiteralRewriter, report: InitReport
    ) {
      self.lines = lines
      self.environment = environment
      self.words = words
      self.titleLevel = titleLevel
      self.literals = literals
      self.report = report
      self.hosts = environment.nodes.map { node in
        (
          name: node.name,
          role: environment.nodes.filter { $0.role == node.role }.count == 1
            ? node.role : node.name
        )
      }
    }

    mutating func visit(_ block: MarkdownDocument.Block) {
      switch block {
      case .heading(let level, let text, _):
        headings.removeAll { $0.level >= level }
        headings.append((level, text))
        sectionRole = nil
      case .codeBlock(let code):
        visit(code)
      default:
        break
      }
    }

    private mutating func visit(_ code: MarkdownDocument.CodeBlock) {
      report.blocks += 1
      if code.inBlockQuote {
        report.documentation.append(.init(line: code.startLine, why: "inside a block quote"))
        return
      }
      // A block someone already annotated is theirs: left byte for byte as it is.
      if let list = try? AttributeList.parse(info: code.info), !list.entries.isEmpty {
        report.annotated.append(code.startLine)
        return
      }
      let prose = NotesConverter.context(of: code.startLine, in: lines)
      let found = NotesConverter.role(
        prose: prose, section: sectionRole, hosts: hosts,
        headings: headings.reversed().filter { $0.level != titleLevel }.map(\.text),
        block: code.literal, words: words)
      if let found, ["prose", "prompt", "host name"].contains(found.rule) {
        sectionRole = found.role
      }
      let context = prose + headings.reversed().map(\.text)
      let literalLines = code.literal.split(separator: "\n").map { $0.trimmingWhitespace() }
        .filter { !$0.isEmpty }
      if let why = clientPromptOnly(literalLines) {
        report.documentation.append(.init(line: code.startLine, why: why))
        return
      }
      if let section = headings.last(where: { NotesConverter.isByHandSection($0.text) }) {
        report.documentation.append(
          .init(
            line: code.startLine,
            why: "in '\(section.text)', which is done by hand when it is needed, not on every run"))
        return
      }
      if edited(code, lines: literalLines, prose: prose, found: found) { return }
      if let why = NotesConverter.mixesShellAndPrompt(literalLines) {
        report.documentation.append(.init(line: code.startLine, why: why))
        return
      }
      let kind = NotesConverter.kind(
        of: code, context: context, previousFile: previousFile, openClient: openClient)
      switch kind {
      case .iniMerge(let file, _, _)?, .writeFile(let file)?, .append(let file)?:
        previousFile = file
      default: break
      }
      guard let kind else {
        report.documentation.append(
          .init(
            line: code.startLine,
            why: "what a command printed, or file content whose file the notes do not name"))
        return
      }
      if kind == .shell { openClient = nil }
      if [.shell, .console].contains(kind),
        let why = NotesConverter.unattendedProblem(literalLines)
      {
        report.documentation.append(.init(line: code.startLine, why: why))
        return
      }
      if kind == .shell, let why = NotesConverter.notACommand(literalLines) {
        report.documentation.append(.init(line: code.startLine, why: why))
        return
      }
      // Configuration is never run as shell: it goes into a file a person names.
      if kind == .shell, let why = NotesConverter.configurationProblem(literalLines) {
        report.fileTODO.append(.init(line: code.startLine, why: why))
        replace(code, kind: .iniMerge(file: "TODO", create: false), found: found)
        return
      }
      replace(code, kind: kind, found: found)
    }

    /// A guide that opens a file in an editor means the content that follows to be the
    /// file's: in the same block after the editor's line, or in the next block. The
    /// editor's line is prose; the content a file step on that file (a merge or an
    /// addition, unless the prose says the file is new). Whether the block was taken so.
    private mutating func edited(
      _ code: MarkdownDocument.CodeBlock, lines: [String], prose: [String],
      found: (role: String, rule: String)?
    ) -> Bool {
      if let opened = NotesConverter.editorOpening(lines) {
        guard lines.count > 1 else {
          editedFile = (opened, prose)
          report.documentation.append(
            .init(
              line: code.startLine,
              why: "'\(lines[0])' opens an editor on \(opened): the next block is its content"))
          return true
        }
        var content = code
        content.literal = String(code.literal.drop { $0 != "\n" }.dropFirst())
        replace(
          content, kind: NotesConverter.editedKind(opened, Array(lines.dropFirst()), prose: prose),
          found: found)
        previousFile = opened
        return true
      }
      guard let file = editedFile else { return false }
      editedFile = nil
      guard !NotesConverter.looksLikeCommands(lines) else { return false }
      replace(
        code, kind: NotesConverter.editedKind(file.path, lines, prose: file.prose), found: found)
      previousFile = file.path
      return true
    }

    /// A block that only opens a client's prompt, or only leaves it, is not a step: what
    /// is typed at the prompt is (as a sql step with the client's `client=`). Why, if so.
    private mutating func clientPromptOnly(_ lines: [String]) -> String? {
      if !lines.isEmpty, lines.allSatisfy(ClientPrompt.leaving.contains) {
        openClient = nil
        return "'\(lines[0])' leaves a client's prompt"
      }
      guard lines.count == 1, let opened = ClientPrompt.opened(by: lines[0]) else { return nil }
      openClient = .some(opened.client)
      return
        "'\(lines[0])' opens the \(opened.program) prompt: the blocks typed there become its steps"
    }

    /// Replaces a block with a step of `kind` on the role found. A role becomes an
    /// attribute word: one that could not be one (a host name with a brace or a space) is
    /// for a person to decide.
    private mutating func replace(
      _ code: MarkdownDocument.CodeBlock, kind: InitKind, found: (role: String, rule: String)?
    ) {
      let placed = found.flatMap { NotesConverter.isAttributeWord($0.role) ? $0 : nil }
      let attributes = ["role=" + (placed?.role ?? "TODO")] + kind.attributes
      if placed == nil { report.todo.append(code.startLine) }
      report.byRule[placed?.rule ?? "TODO", default: 0] += 1
      report.assigned.append((code.startLine, placed?.role ?? "TODO", placed?.rule ?? "TODO"))
      let body = literals.rewrite(
        kind.body(code.literal), role: placed?.role, kind: kind, line: code.startLine)
      edits.append(
        (
          range: NotesConverter.blockRange(code, lines: lines),
          lines: NotesConverter.fenced(
            body, language: NotesConverter.language(of: kind, fence: code.info),
            attributes: attributes,
            indent: NotesConverter.indent(of: code, lines: lines))
        ))
      report.steps += 1
    }
  }
}
