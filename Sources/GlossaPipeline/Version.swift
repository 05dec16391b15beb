/// Glossa's version: `glossa --version` prints it, manifests and run reports record it.
public enum GlossaVersion {
    public static let current = "0.1.0"
}
