import COpenBLAS

/// Dense single-precision products through OpenBLAS, for work over many tokens at once.
public enum BLAS {
    /// C[m x n] = A[m x k] * B^T where B is stored as n rows of k (the layout of weight
    /// matrices: one row per output feature). Row-major throughout.
    public static func multiplyTransposed(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, accumulate: Bool = false
    ) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(m), blasint(n), blasint(k),
                    1, a, blasint(k), b, blasint(k), accumulate ? 1 : 0, c, blasint(n))
    }

    /// C[m x n] = alpha * A[m x k] * B^T, where B is n rows of k; rows of A, B and C are `lda`,
    /// `ldb` and `n` floats apart (B can be one head's columns of a wider cache).
    public static func multiplyTransposed(_ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                                          _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, alpha: Float) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(m), blasint(n), blasint(k),
                    alpha, a, blasint(lda), b, blasint(ldb), 0, c, blasint(n))
    }

    /// C[m x n] = A[m x k] * B[k x n]; rows of A, B and C are `lda`, `ldb` and `ldc` floats apart.
    public static func multiply(_ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                                _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(m), blasint(n), blasint(k),
                    1, a, blasint(lda), b, blasint(ldb), 0, c, blasint(ldc))
    }

    /// Threads OpenBLAS uses for one call.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }

    /// The kernel OpenBLAS picked for this CPU ("Cooperlake", "Haswell", ...).
    public static var coreName: String { String(cString: openblas_get_corename()) }
}
