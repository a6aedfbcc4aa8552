/// Text from outside (a host's output, an inventory value) made safe to show: a terminal
/// acts on escape sequences, so output that reaches the operator's terminal is stripped of
/// them, and values quoted in messages show their control characters instead of sending them.
public enum TerminalText {
  /// `text` with every control character written as `\u{XX}` (tab and newline included).
  public static func visible(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
      if scalar.properties.generalCategory == .control {
        out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// `text` without terminal control: escape sequences (CSI, OSC, DCS and the like, and
  /// two-byte ESC sequences) are removed whole, other control characters but newline and
  /// tab are dropped, and a carriage return ends nothing (it is dropped too), so a host
  /// cannot move the cursor, retitle the window, or overwrite what the tool printed.
  public static func strip(_ text: String) -> String {
    // The common case, no control character at all, costs one scan of the bytes and no
    // copy (C1 controls are 0xC2 0x80…0x9F in UTF-8, so 0xC2 sends it the slow way).
    guard
      text.utf8.contains(where: {
        ($0 < 0x20 && $0 != 0x0A && $0 != 0x09) || $0 == 0x7F || $0 == 0xC2
      })
    else { return text }
    let scalars = Array(text.unicodeScalars)
    var out = String.UnicodeScalarView()
    var i = 0
    while i < scalars.count {
      let c = scalars[i].value
      if c == 0x1B || c == 0x9B || c == 0x9D || c == 0x90 {
        i = endOfEscape(scalars, from: i)
        continue
      }
      if c == 0x0A || c == 0x09 || (c >= 0x20 && c != 0x7F && !(0x80...0x9F).contains(c)) {
        out.append(scalars[i])
      }
      i += 1
    }
    return String(out)
  }

  /// The index after the escape sequence that starts at `start`.
  private static func endOfEscape(_ s: [Unicode.Scalar], from start: Int) -> Int {
    var i = start
    var kind = s[i].value
    if kind == 0x1B {
      i += 1
      guard i < s.count else { return i }
      switch s[i].value {
      case 0x5B: kind = 0x9B  // ESC [ : CSI
      case 0x5D: kind = 0x9D  // ESC ] : OSC
      case 0x50, 0x58, 0x5E, 0x5F: kind = 0x90  // DCS, SOS, PM, APC: ended like OSC
      default:
        // ESC, intermediate bytes, one final byte.
        while i < s.count, (0x20...0x2F).contains(s[i].value) { i += 1 }
        return min(i + 1, s.count)
      }
    }
    i += 1
    if kind == 0x9B {
      // Parameters and intermediates, then one final byte in @…~.
      while i < s.count, !(0x40...0x7E).contains(s[i].value) {
        if s[i].value == 0x0A { return i }
        i += 1
      }
      return min(i + 1, s.count)
    }
    // A string sequence runs to BEL or ST (ESC \ or 0x9C); a newline ends it too, so a
    // stray opener cannot swallow the rest of the output.
    while i < s.count {
      let c = s[i].value
      if c == 0x07 || c == 0x9C { return i + 1 }
      if c == 0x1B { return i + 1 < s.count && s[i + 1].value == 0x5C ? i + 2 : i + 1 }
      if c == 0x0A { return i }
      i += 1
    }
    return i
  }
}
