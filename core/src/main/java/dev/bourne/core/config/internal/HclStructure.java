package dev.bourne.core.config.internal;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Checks brackets, strings, comments and heredocs before hcl4j sees the text. hcl4j 0.9.8 accepts an unclosed block
 * or string without complaint and silently drops or re-parents what follows (pinned by HclParsingTest), so a missing
 * brace would otherwise turn into confusing "unknown key" errors, or none at all.
 */
final class HclStructure {

    /** Deeper nesting is never needed by a configuration, and hcl4j's recursive parser overflows at a few thousand. */
    static final int MAX_DEPTH = 32;

    private final String text;
    private int pos;
    private int line = 1;
    private int column = 1;

    private HclStructure(String text) {
        this.text = text;
    }

    static void check(String text) throws HclSyntaxException {
        new HclStructure(text).run();
    }

    private record Open(char bracket, int line, int column) {
    }

    private void run() throws HclSyntaxException {
        Deque<Open> open = new ArrayDeque<>();
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '"') {
                skipString();
                continue;
            }
            if (c == '#' || (c == '/' && peek(1) == '/')) {
                while (pos < text.length() && text.charAt(pos) != '\n') {
                    advance();
                }
                continue;
            }
            if (c == '/' && peek(1) == '*') {
                skipBlockComment();
                continue;
            }
            if (c == '<' && peek(1) == '<' && skipHeredoc()) {
                continue;
            }
            switch (c) {
                case '{', '[', '(' -> {
                    if (open.size() == MAX_DEPTH) {
                        throw new HclSyntaxException(line, column, "nesting deeper than " + MAX_DEPTH + " levels");
                    }
                    open.push(new Open(c, line, column));
                }
                case '}', ']', ')' -> {
                    if (open.isEmpty()) {
                        throw new HclSyntaxException(line, column, "unexpected '" + c + "' with no open bracket");
                    }
                    Open top = open.pop();
                    char expected = closing(top.bracket());
                    if (c != expected) {
                        throw new HclSyntaxException(line, column, "expected '" + expected + "' to close '" + top.bracket()
                                + "' from line " + top.line() + ", column " + top.column() + ", found '" + c + "'");
                    }
                }
                default -> {
                }
            }
            advance();
        }
        if (!open.isEmpty()) {
            Open top = open.pop();
            throw new HclSyntaxException(top.line(), top.column(), "'" + top.bracket() + "' is never closed");
        }
    }

    private void skipString() throws HclSyntaxException {
        int startLine = line;
        int startColumn = column;
        advance();
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '\\') {
                advance();
                if (pos < text.length() && text.charAt(pos) != '\n') {
                    advance();
                }
                continue;
            }
            if (c == '\n') {
                break;
            }
            if (c == '$' && peek(1) == '{') {
                // hcl4j evaluates "${1+2}" to "3.0" and keeps "$${" as two dollars: neither is what the author meant.
                throw new HclSyntaxException(line, column, "\"${\" in a string is not supported (no interpolation)");
            }
            advance();
            if (c == '"') {
                return;
            }
        }
        throw new HclSyntaxException(startLine, startColumn, "string is not closed on the same line");
    }

    private void skipBlockComment() throws HclSyntaxException {
        int startLine = line;
        int startColumn = column;
        advance();
        advance();
        while (pos < text.length()) {
            if (text.charAt(pos) == '*' && peek(1) == '/') {
                advance();
                advance();
                return;
            }
            advance();
        }
        throw new HclSyntaxException(startLine, startColumn, "comment is never closed");
    }

    /** Skips {@code <<EOF ... EOF} (or {@code <<-EOF}); false if the text at pos is not a heredoc opener. */
    private boolean skipHeredoc() throws HclSyntaxException {
        int i = pos + 2;
        if (i < text.length() && text.charAt(i) == '-') {
            i++;
        }
        int markerStart = i;
        while (i < text.length() && (Character.isLetterOrDigit(text.charAt(i)) || text.charAt(i) == '_')) {
            i++;
        }
        if (i == markerStart || i >= text.length() || (text.charAt(i) != '\n' && text.charAt(i) != '\r')) {
            return false;
        }
        String marker = text.substring(markerStart, i);
        int startLine = line;
        int startColumn = column;
        while (pos < i) {
            advance();
        }
        while (pos < text.length()) {
            advance(); // the newline ending the previous line
            int lineEnd = text.indexOf('\n', pos);
            String content = text.substring(pos, lineEnd < 0 ? text.length() : lineEnd);
            if (content.strip().equals(marker)) {
                while (pos < text.length() && text.charAt(pos) != '\n') {
                    advance();
                }
                return true;
            }
            while (pos < text.length() && text.charAt(pos) != '\n') {
                advance();
            }
        }
        throw new HclSyntaxException(startLine, startColumn, "heredoc <<" + marker + " is never closed");
    }

    private char peek(int ahead) {
        int i = pos + ahead;
        return i < text.length() ? text.charAt(i) : '\0';
    }

    private void advance() {
        if (text.charAt(pos) == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
        pos++;
    }

    private static char closing(char open) {
        return switch (open) {
            case '{' -> '}';
            case '[' -> ']';
            default -> ')';
        };
    }
}
