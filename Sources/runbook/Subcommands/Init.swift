import ArgumentParser
import Foundation
import RunbookKit

/// `runbook init`: an operator's notes to an annotated runbook (and an inventory).
struct Init: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Turn raw notes into an annotated runbook: roles from what the notes say, literals into variables and secrets; the notes are not changed.",
    discussion:
      "Blocks whose role cannot be told get role=TODO; `runbook check` then points at each. Exit status: 0, or 2 when the notes cannot be read or an output exists."
  )

  @Argument(help: "The notes (a Markdown file).")
  var notes: String

  @Option(
    name: [.short, .customLong("output")], help: "The runbook to write (default: NOTES.runbook.md)."
  )
  var output: String?

  @Option(
    name: .customLong("inventory-out"), help: "Write the inventory the notes' node list gives here."
  )
  var inventoryOut: String?

  @Option(
    name: .customLong("role-word"),
    help:
      "A word of the notes that names a role: WORD=ROLE (repeatable), like --role-word 'web tier=web'."
  )
  var roleWords: [String] = []

  @Option(
    name: [.short, .long],
    help: "An inventory the team has: its host names and addresses in the notes say their groups.")
  var inventory: String?

  @Flag(help: "Print the report as JSON.")
  var json = false

  @Flag(help: "Replace outputs that exist.")
  var force = false

  func run() throws {
    guard let data = FileManager.default.contents(atPath: notes) else {
      try report([Diagnostic(.error, at: nil, "cannot read the notes '\(notes)'")])
      return
    }
    var converter = NotesConverter()
    var problems: [Diagnostic] = []
    for pair in roleWords {
      // The role becomes a fence attribute: a group name, nothing that could end the braces.
      guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex,
        case let role = pair[pair.index(after: eq)...], !role.isEmpty,
        role.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) })
      else {
        problems.append(
          Diagnostic(
            .error, at: nil,
            "--role-word '\(pair)' must be WORD=ROLE with ROLE a group name (letters, digits, _ . -), like 'web tier=web'"
          ))
        continue
      }
      converter.roleWords.append((String(pair[..<eq]), String(role)))
    }
    if let inventory {
      do {
        converter.inventory = try InventoryParser.load(path: inventory)
      } catch {
        problems += error.diagnostics
      }
    }
    let target = output ?? (notes as NSString).deletingPathExtension + ".runbook.md"
    for path in [target] + (inventoryOut.map { [$0] } ?? []) where !force {
      if FileManager.default.fileExists(atPath: path) {
        problems.append(Diagnostic(.error, at: nil, "\(path) exists; pass --force to replace it"))
      }
    }
    if target == notes {
      problems.append(
        Diagnostic(.error, at: nil, "the notes are never overwritten; choose another -o"))
    }
    try report(problems)
    let result = converter.convert(String(decoding: data, as: UTF8.self), file: notes)
    try result.runbook.write(toFile: target, atomically: true, encoding: .utf8)
    if let inventoryOut, let inventory = result.inventory {
      try inventory.write(toFile: inventoryOut, atomically: true, encoding: .utf8)
    }
    if json {
      print(result.report.json(), terminator: "")
    } else {
      print(result.report.text(), terminator: "")
      print(
        "wrote \(target)"
          + (inventoryOut.map {
            result.inventory == nil ? " (no node list in the notes: no inventory)" : " and \($0)"
          } ?? ""))
    }
  }
}
