import Testing

@testable import RunbookKit

@Suite struct TemplateTests {
  func render(_ text: String, _ values: [String: String]) -> String {
    Template.parse(text).0.render(resolving: { values[$0.name] })
  }

  @Test func substitutesNamesAndDottedPaths() {
    #expect(
      render("a {{ x }} b {{host.address}}", ["x": "1", "host.address": "10.0.0.1"])
        == "a 1 b 10.0.0.1")
  }

  @Test func stringLiteralsGiveLiteralBraces() {
    let text = #"docker inspect --format '{{ "{{" }}.State.Status{{ '}}' }}' c"#
    #expect(render(text, [:]) == "docker inspect --format '{{.State.Status}}' c")
    #expect(Template.parse(text).0.references.isEmpty)
  }

  @Test func unknownNamesStayVisible() {
    #expect(render("x={{ later }}", [:]) == "x={{ later }}")
  }

  @Test func referencesKnowTheirLine() {
    let refs = Template.parse("one\ntwo {{ a }}\n\nfour {{ b.c }}").0.references
    #expect(refs.map(\.name) == ["a", "b.c"])
    #expect(refs.map(\.lineOffset) == [1, 3])
  }

  @Test func syntaxProblemsAreAllReported() {
    let (_, problems) = Template.parse("{{ a | upper }}\n{{ open\n{{ }}\n{{ 'x }}")
    #expect(problems.map(\.lineOffset) == [0, 1, 2, 3])
    #expect(problems[0].message.hasPrefix("'upper' is not a filter; use quote"))
  }

  @Test func shellBracesAreLeftAlone() {
    #expect(render("echo ${HOME} {a,b} '{' }}", [:]) == "echo ${HOME} {a,b} '{' }}")
  }
}

@Suite struct AttributeListTests {
  @Test func parsesLanguageFlagsAndQuotedValues() throws {
    let list = try #require(
      try AttributeList.parse(info: #"sh {role=db,lb name="x y" allow-fail expect='a \'b\''}"#))
    #expect(list.language == "sh")
    #expect(
      list.entries == [
        .init(key: "role", value: "db,lb"), .init(key: "name", value: "x y"),
        .init(key: "allow-fail", value: nil), .init(key: "expect", value: "a 'b'"),
      ])
  }

  @Test func noBracesMeansDocumentation() throws {
    #expect(try AttributeList.parse(info: "sh") == nil)
    #expect(try AttributeList.parse(info: "") == nil)
  }

  @Test func syntaxErrorsSayWhatToWrite() {
    #expect(throws: AttributeList.SyntaxError.self) { try AttributeList.parse(info: "sh {role=db") }
    #expect(throws: AttributeList.SyntaxError.self) { try AttributeList.parse(info: "sh {a=\"b}") }
    #expect(throws: AttributeList.SyntaxError.self) {
      try AttributeList.parse(info: "sh {role=db} extra")
    }
    // Words between the language and `{` (MkDocs' title=, Docusaurus' showLineNumbers)
    // are the site's: kept aside, not an error.
    let titled = try? AttributeList.parse(info: "python title=\"hello.py\" {role=db}") ?? nil
    #expect(titled?.language == "python")
    #expect(titled?.ignoredWords == "title=\"hello.py\"")
  }

  @Test func typedAttributesValidate() throws {
    let list = try #require(
      try AttributeList.parse(
        info: "sh {role=a timeout=1m30s retries=2 delay=500ms tags=x,y serial}"))
    let (a, problems) = StepAttributes.validate(list)
    #expect(problems.isEmpty)
    #expect(a.timeout == .seconds(90))
    #expect(a.retries == 2)
    #expect(a.delay == .milliseconds(500))
    #expect(a.tags == ["x", "y"])
    #expect(a.serial)
  }

  @Test func misspelledAttributeGetsASuggestion() throws {
    let list = try #require(try AttributeList.parse(info: "sh {role=a timout=5s}"))
    #expect(
      StepAttributes.validate(list).1 == ["unknown attribute 'timout'; did you mean 'timeout'?"])
  }

  @Test func durationForms() {
    #expect(StepAttributes.parseDuration("90") == .seconds(90))
    #expect(StepAttributes.parseDuration("2h") == .seconds(7200))
    #expect(StepAttributes.parseDuration("5 m") == nil)
    #expect(StepAttributes.parseDuration("") == nil)
    #expect(StepAttributes.parseDuration("3d") == nil)
  }
}
