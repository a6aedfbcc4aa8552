extension StepPlanner {
  /// One text of a step as a template: the body (`key` nil) or an attribute that takes text.
  struct TemplateField {
    var key: StepField?
    var template: Template
    /// The body's first line, or the step's line for an attribute: references' lines are
    /// counted from here.
    var line: Int
  }

  /// Templates of the body and of the attributes that take text, reporting template syntax
  /// errors and quoted secrets or per-host values in code.
  mutating func templateFields(of step: Step) -> [TemplateField] {
    let attributes = step.attributes
    let runsCommands = step.kind.handler.runsCommands
    let textFields: [(key: StepField?, text: String?)] = [
      (nil, step.body), (.file, attributes.file), (.creates, attributes.creates),
      (.unless, attributes.unless), (.expect, attributes.expect), (.user, attributes.user),
      (.owner, attributes.owner), (.client, attributes.client),
      (.cwd, attributes.cwd ?? (runsCommands ? frontMatter.runmeCwd : nil)),
      (.env, runsCommands ? environment(of: step) : nil),
    ]
    var fields: [TemplateField] = []
    for case (let key, let text?) in textFields {
      if attributes.raw && key == nil {
        fields.append(
          TemplateField(key: key, template: Template(verbatim: text), line: step.bodyLine))
        continue
      }
      let (template, problems) = Template.parse(text)
      let base = key == nil ? step.bodyLine : step.line
      for problem in problems {
        diagnostics.append(.error(file, base + problem.lineOffset, problem.message))
      }
      // `unless=` is a shell command; the body is code when its kind says how to quote in it.
      let handler: (any StepKindHandler)? =
        key == .unless ? ShellStep() : key == nil ? step.kind.handler : nil
      if let handler, handler.quotedValue("x") != nil {
        warnAboutHandQuoting(in: template, key: key, base: base) { handler.quotedValue($0) ?? "" }
      }
      fields.append(TemplateField(key: key, template: template, line: base))
    }
    return fields
  }

  /// The front matter's environment, then the step's own, one NAME=value a line.
  private func environment(of step: Step) -> String? {
    let own = step.attributes.envWords ?? []
    let lines = frontMatter.env.map { "\($0.name)=\($0.value)" } + own
    return lines.isEmpty ? nil : lines.joined(separator: "\n")
  }

  /// A password or a per-host value between quotes the author typed breaks the command (or
  /// injects into it) as soon as it holds that quote.
  private mutating func warnAboutHandQuoting(
    in template: Template, key: StepField?, base: Int, fix quoted: (String) -> String
  ) {
    // Host names, addresses and roles are checked names, never quotes.
    let builtIn = ["host", "inventory_hostname", "roles"]
    for ref in template.handQuotedReferences
    where secretNames.contains(ref.path[0])
      || (inventory != nil && !builtIn.contains(ref.path[0]) && scope.isHostVarying(ref))
    {
      let what = secretNames.contains(ref.path[0]) ? "secret" : "per-host value"
      let fix = quoted(ref.name)
      diagnostics.append(
        .warning(
          file, base + (key == nil ? ref.lineOffset : 0),
          "{{ \(ref.name) }} is a \(what) inside quotes written in the step: a value holding a quote breaks the command or injects into it; write \(fix) without the quotes"
        ))
    }
  }
}
