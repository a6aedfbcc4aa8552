import Testing

@testable import RunbookKit

@Suite struct InventoryTests {
  func parse(_ text: String, file: String = "hosts") throws -> Inventory {
    try InventoryParser.parse(text, file: file)
  }

  func problems(_ text: String, file: String = "hosts") -> [String] {
    do {
      _ = try InventoryParser.parse(text, file: file)
      return []
    } catch {
      return error.diagnostics.map(\.description)
    }
  }

  @Test func childGroupBeatsParentAndHostBeatsAll() throws {
    let inventory = try parse(
      """
      [all:vars]
      x=all
      [parent:children]
      child
      [parent:vars]
      x=parent
      [child]
      h1
      h2 x=host
      [child:vars]
      x=child
      """)
    #expect(inventory.variables(of: "h1")["x"] == .string("child"))
    #expect(inventory.variables(of: "h2")["x"] == .string("host"))
  }

  @Test func groupsOfSameDepthMergeInNameOrder() throws {
    let inventory = try parse("[b]\nh\n[a]\nh\n[a:vars]\nv=a\n[b:vars]\nv=b\n")
    #expect(inventory.variables(of: "h")["v"] == .string("b"))
  }

  @Test func hostsOfAGroupIncludeItsChildren() throws {
    let inventory = try parse("[c]\nh3\n[c:children]\na\nb\n[a]\nh1\n[b]\nh2\nh1\n")
    #expect(inventory.hosts(in: "c") == ["h3", "h1", "h2"])
    #expect(inventory.hosts(in: "all") == ["h3", "h1", "h2"])
    #expect(inventory.hosts(in: "h2") == ["h2"])
  }

  @Test func iniValuesAreTypedLikeLiteralEval() throws {
    let inventory = try parse(
      "h port=8080 r=0.5 t=true T=True n=None s='x' l=\"[1, 'a']\" bad=1.2.3 big=0x10\n")
    let v = inventory.variables(of: "h")
    #expect(v["port"] == .int(8080))
    #expect(v["r"] == .double(0.5))
    #expect(v["t"] == .string("true"))
    #expect(v["T"] == .bool(true))
    #expect(v["n"] == .null)
    #expect(v["s"] == .string("x"))
    #expect(v["l"] == .list([.int(1), .string("a")]))
    #expect(v["bad"] == .string("1.2.3"))
    #expect(v["big"] == .int(16))
  }

  @Test func rangesExpand() throws {
    #expect(try HostPattern.expandRanges("c[01:03]") == ["c01", "c02", "c03"])
    #expect(try HostPattern.expandRanges("s[1:9:4]") == ["s1", "s5", "s9"])
    #expect(try HostPattern.expandRanges("n[a:c]x") == ["nax", "nbx", "ncx"])
    #expect(try HostPattern.expand("web[1:2]:2222") == (["web1", "web2"], 2222))
  }

  @Test func rangeErrorsCarryTheLine() {
    #expect(
      problems("[web]\nweb[01:5]\n") == [
        "hosts:2: error: host range [01:5] must use equal-length begin and end, like [01:20]"
      ])
    #expect(
      problems("[web]\nweb[5]\n").first?.hasPrefix("hosts:2: error: host range must be") == true)
  }

  @Test func undefinedGroupsAreReportedAtTheirSection() {
    #expect(
      problems("[x:vars]\na=1\n[p:children]\nmissing\n[q]\nh\n") == [
        "hosts:1: error: section [x:vars] is for group 'x', which is never defined; add a [x] section",
        "hosts:4: error: section [p:children] includes group 'missing', which is never defined; add a [missing] section",
      ])
  }

  @Test func everyBadLineIsReported() {
    let found = problems("[web]\nweb1 novalue\n[web:vars]\njustaword\n[bad section]\n[g:weird]\n")
    #expect(
      found == [
        "hosts:2: error: expected key=value host variable, got 'novalue'",
        "hosts:4: error: expected key=value in [web:vars], got 'justaword'",
        "hosts:5: error: invalid section '[bad section]'; write [group], [group:vars] or [group:children] with no spaces",
        "hosts:6: error: section [g:weird] has unknown type 'weird'; use :vars or :children",
      ])
  }

  @Test func childCyclesAreRefused() {
    let found = problems("[a:children]\nb\n[b:children]\na\n")
    #expect(found.count == 1)
    #expect(found.first?.contains("creates a loop") == true)
  }

  @Test func yamlErrorsCarryTheLine() {
    #expect(
      problems("all:\n  hosts:\n    h1: [unclosed\n", file: "inv.yml").first?.hasPrefix(
        "inv.yml:") == true)
    #expect(
      problems("all:\n  hosts:\n    12:\n", file: "inv.yml") == [
        "inv.yml:3: error: host pattern 12 must be a string; quote it"
      ])
  }

  @Test func unclosedQuoteOnAHostLine() {
    #expect(
      problems("h1 note=\"open\n") == [
        "hosts:1: error: cannot read host line: no closing quotation"
      ])
  }
}
