package dev.bourne.core.config.internal;

/** An HCL text that is not well formed, with the 1-based line and column where the problem was found (0 if unknown). */
public final class HclSyntaxException extends Exception {

    private static final long serialVersionUID = 1L;

    private final int line;
    private final int column;
    private final String reason;

    public HclSyntaxException(int line, int column, String reason) {
        super(line > 0 ? "line " + line + ", column " + column + ": " + reason : reason);
        this.line = line;
        this.column = column;
        this.reason = reason;
    }

    public int line() {
        return line;
    }

    public int column() {
        return column;
    }

    public String reason() {
        return reason;
    }
}
