import Foundation
import Testing

@testable import RunbookKit

/// Every inventory of the corpus against what `ansible-inventory` (ansible-core 2.19)
/// printed for it; regenerate the expectations with Scripts/ansible-expectations.
@Suite struct InventoryCorpusTests {
  static let files = Fixtures.files(in: "inventory", extensions: ["ini", "yml", "yaml"])

  @Test func corpusIsLargeEnough() {
    #expect(Self.files.count >= 15)
  }

  @Test(arguments: files)
  func listMatchesAnsible(file: String) throws {
    let inventory = try InventoryParser.load(path: Fixtures.url("inventory/\(file)").path)
    let base = (file as NSString).deletingPathExtension
    let expected = try Fixtures.text("inventory/\(base).expected.json")
    #expect(inventory.ansibleListJSON() + "\n" == expected)
  }

  @Test(arguments: files)
  func graphMatchesAnsible(file: String) throws {
    let inventory = try InventoryParser.load(path: Fixtures.url("inventory/\(file)").path)
    let base = (file as NSString).deletingPathExtension
    let expected = try Fixtures.text("inventory/\(base).expected.graph")
    #expect(inventory.ansibleGraph() + "\n" == expected)
  }
}
