package dev.bourne.core.config.internal;

import com.bertramlabs.plugins.hcl4j.HCLParser;
import com.bertramlabs.plugins.hcl4j.HCLParserException;
import com.bertramlabs.plugins.hcl4j.RuntimeSymbols.Function;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses HCL text into hcl4j's map of maps, with everything beyond plain values turned off.
 *
 * <p>Result shape (pinned by HclParsingTest): a block is a {@code LinkedHashMap}; a labelled block
 * {@code Type "name" { }} nests as {@code Type -> name -> body}; a block or label declared twice becomes an
 * {@code ArrayList} of bodies; numbers are always {@code Double}; booleans {@code Boolean}; lists {@code ArrayList};
 * an unquoted word is left as an hcl4j expression object; a repeated attribute keeps its last value.
 */
public final class HclParsing {

    private static final Pattern POSITION = Pattern.compile("line: (\\d+) col: (\\d+)");
    private static final Pattern ILLEGAL = Pattern.compile("Illegal character <\\((.*?)\\) - state: \\d+>",
            Pattern.DOTALL);

    private HclParsing() {
    }

    /** Parses {@code text}, or throws with the line and column hcl4j or the structure check reported. */
    public static Map<String, Object> parse(String text) throws HclSyntaxException {
        HclStructure.check(text);
        try {
            return new RestrictedParser().parse(new StringReader(text));
        } catch (HCLParserException e) {
            throw translate(e);
        } catch (IOException e) {
            throw new UncheckedIOException("reading from a string", e);
        } catch (RuntimeException e) {
            // hcl4j wraps its parser exceptions in RuntimeException; anything else it throws is a parser bug on odd input.
            if (e.getCause() instanceof HCLParserException cause) {
                throw translate(cause);
            }
            throw new HclSyntaxException(0, 0, "hcl4j could not parse the file (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static HclSyntaxException translate(HCLParserException e) {
        String message = String.valueOf(e.getMessage());
        int line = 0;
        int column = 0;
        int end = message.length();
        Matcher position = POSITION.matcher(message);
        if (position.find()) {
            line = Integer.parseInt(position.group(1));
            column = Integer.parseInt(position.group(2));
            end = position.start();
        }
        Matcher illegal = ILLEGAL.matcher(message);
        String reason;
        if (illegal.find()) {
            String character = illegal.group(1);
            reason = character.equals("\n") ? "unexpected end of line" : "unexpected " + Values.quote(character);
        } else {
            reason = message.substring(0, end).replaceFirst("\\s*found on\\s*$", "").strip();
        }
        return new HclSyntaxException(line, column, reason);
    }

    /**
     * hcl4j evaluates HCL2 functions and {@code data} blocks; some are non-deterministic ({@code uuid()},
     * {@code timestamp()}) and data lookups fetch URLs. A configuration file must mean the same thing every time it is
     * read and must never make the process reach the network, so both are refused (SPIRE's HCL1 has neither).
     */
    private static final class RestrictedParser extends HCLParser {

        RestrictedParser() {
            functionRegistry.clear();
            dataLookupRegistry.clear();
        }

        @Override
        protected Object evaluateFunctionCall(String name, Function function) throws HCLParserException {
            throw new HCLParserException("function calls are not supported: " + name + "()");
        }

        @Override
        protected Object evaluateFunctionCall(String name, Function function, Map<String, Object> context)
                throws HCLParserException {
            throw new HCLParserException("function calls are not supported: " + name + "()");
        }

        @Override
        protected Map<String, Object> evaluateDataLookup(String type, String name, Map<String, Object> properties)
                throws HCLParserException {
            throw new HCLParserException("data blocks are not supported: data \"" + type + "\"");
        }
    }
}
