import Testing

@testable import RunbookKit

/// What `SecretMasker` hides: a secret wherever it appears, also one line at a time and as
/// a context line of a diff (issue 25: a secret written by one step showed in clear in a
/// later step's diff of the same file).
@Suite struct SecretMaskerTests {
  static let key =
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAB\n-----END OPENSSH PRIVATE KEY-----\n"

  @Test func eachLongEnoughLineOfAMultiLineSecretIsMaskedAlone() {
    let masker = SecretMasker(values: [Self.key])
    #expect(masker.mask("got b3BlbnNzaC1rZXktdjEAAAAA here") == "got ******** here")
    #expect(masker.mask("AAAB") == "********")
    #expect(masker.mask(Self.key) == "********")
    // Line by line, as a log reads it, with CRLF as a Windows editor leaves it.
    let crlf = Self.key.replacingOccurrences(of: "\n", with: "\r\n")
    let lines = crlf.split(separator: "\n").map { masker.mask(String($0)) }
    #expect(lines.allSatisfy { $0.hasPrefix(SecretMasker.mask) }, "\(lines)")
    // A line shorter than the limit is too common to hide: a two-line secret "ab\ncd".
    #expect(SecretMasker(values: ["ab\ncd"]).mask("ab") == "ab")
  }

  @Test func aSecretInADiffIsMaskedInContextLinesAndEveryAddedOrRemovedLine() {
    let masker = SecretMasker(values: ["hunter2-long", Self.key])
    let diff = """
      @@ -1,4 +1,5 @@
       requirepass "hunter2-long"
       bind 127.0.0.1
      -maxmemory 1gb
      +maxmemory 2gb
       port 6379
      +b3BlbnNzaC1rZXktdjEAAAAA
      """
    let masked = masker.maskDiff(diff)
    #expect(!masked.contains("hunter2-long"), "\(masked)")
    #expect(!masked.contains("b3BlbnNzaC1rZXktdjEAAAAA"), "\(masked)")
    #expect(masked.contains(" requirepass \"********\""))
    #expect(masked.contains("-maxmemory 1gb") && masked.contains("+maxmemory 2gb"))
  }
}
