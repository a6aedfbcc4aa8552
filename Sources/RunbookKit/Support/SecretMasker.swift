/// Replaces every occurrence of a secret's value with a mask, wherever text is written.
public struct SecretMasker: Sendable {
  /// What a secret becomes.
  public static let mask = "********"

  /// The values to hide, longest first so a secret containing another is hidden whole.
  public let values: [String]

  /// Creates a masker for `values`; empty values are ignored (they would mask everything).
  public init<S: Sequence>(values: S) where S.Element == String {
    self.values = Set(values.filter { !$0.isEmpty }).sorted {
      $0.count != $1.count ? $0.count > $1.count : $0 < $1
    }
  }

  /// `text` with every secret value replaced by the mask.
  public func mask(_ text: String) -> String {
    values.isEmpty ? text : ByteSearch.replacing(values, in: text, with: Self.mask)
  }
}
