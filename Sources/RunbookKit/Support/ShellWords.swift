/// POSIX shell-style word splitting with `#` comments: Python's `shlex.split(comments=True)`,
/// which Ansible applies to INI host lines.
enum ShellWords {
  struct Problem: Error {
    var message: String
  }

  static func split(_ line: String) throws(Problem) -> [String] {
    var words: [String] = []
    var current = ""
    var inWord = false
    var quote: Character?
    var iterator = line.makeIterator()
    while let c = iterator.next() {
      if let q = quote {
        if c == q {
          quote = nil
        } else if q == "\"", c == "\\" {
          guard let next = iterator.next() else { throw Problem(message: "no escaped character") }
          if next != "\\" && next != "\"" && next != "$" && next != "`" { current.append("\\") }
          current.append(next)
        } else {
          current.append(c)
        }
        continue
      }
      switch c {
      case " ", "\t", "\n", "\r":
        if inWord {
          words.append(current)
          current = ""
          inWord = false
        }
      case "#":
        if inWord { words.append(current) }
        return words
      case "'", "\"":
        quote = c
        inWord = true
      case "\\":
        guard let next = iterator.next() else { throw Problem(message: "no escaped character") }
        current.append(next)
        inWord = true
      default:
        current.append(c)
        inWord = true
      }
    }
    if quote != nil { throw Problem(message: "no closing quotation") }
    if inWord { words.append(current) }
    return words
  }
}
