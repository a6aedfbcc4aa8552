import Foundation

/// Test fixtures, found next to this file so tests need no resource bundle.
enum Fixtures {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

  static func url(_ path: String) -> URL { root.appendingPathComponent(path) }

  static func text(_ path: String) throws -> String {
    try String(contentsOf: url(path), encoding: .utf8)
  }

  /// The files of a fixture folder with the given extensions, sorted.
  static func files(in folder: String, extensions: Set<String>) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: url(folder).path)) ?? []
    return names.filter { name in
      extensions.contains((name as NSString).pathExtension) && !name.contains(".expected")
    }.sorted()
  }

  /// How many files each corpus holds at least: a corpus that finds fewer (a moved folder,
  /// a wrong extension) would make its parameterized tests pass by running none.
  static let minimumCorpus: [String: Int] = [
    "inventory": 15, "markdown": 5, "broken": 3, "ini": 4, "ini/merges": 15, "guides": 2,
    "reports": 4, "failures": 25,
  ]
}
