package dev.bourne.agent.workloadapi;

/** No JWT-SVID could be obtained for a workload now; the Workload API answers UNAVAILABLE. */
public class JwtSvidMintException extends Exception {
    private static final long serialVersionUID = 1L;

    public JwtSvidMintException(String message) {
        super(message);
    }

    public JwtSvidMintException(String message, Throwable cause) {
        super(message, cause);
    }
}
