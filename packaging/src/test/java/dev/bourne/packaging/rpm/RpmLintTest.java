package dev.bourne.packaging.rpm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.packaging.PackagingTool;
import dev.bourne.packaging.Rpms;
import dev.bourne.testing.Exec;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** rpmlint 2.4 with the project's configuration (packaging/rpm/rpmlint.toml) on the three RPMs and the spec. */
class RpmLintTest {
    private static final Pattern FILTER = Pattern.compile("^\\s*'(.*)',\\s*$");

    @Test
    void rpmlint_rpmsAndSpec_noErrorsNoWarnings() {
        Rpms.Built rpms = Rpms.get();
        List<String> args = new ArrayList<>(List.of("-c", RpmRoot.SOURCES.resolve("rpmlint.toml").toString(),
                RpmRoot.SOURCES.resolve("bourne.spec").toString()));
        rpms.all().forEach(p -> args.add(p.toString()));
        Exec.Result result = Commands.run(PackagingTool.RPMLINT, java.util.Map.of(), args.toArray(String[]::new));
        String output = result.stdout() + result.stderr();
        assertEquals(0, result.exitCode(), output);
        assertTrue(output.contains("3 packages and 1 specfiles checked; 0 errors, 0 warnings, 0 badness"), output);
        assertTrue(output.contains("rpmlint.toml"), "the project configuration was not loaded:\n" + output);
    }

    @Test
    void rpmlintConfig_everyFilterHasAComment() throws IOException {
        List<String> lines = Files.readAllLines(RpmRoot.SOURCES.resolve("rpmlint.toml"));
        int filters = 0;
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = FILTER.matcher(lines.get(i));
            if (m.matches()) {
                filters++;
                int j = i - 1;
                while (j >= 0 && FILTER.matcher(lines.get(j)).matches()) {
                    j--;  // consecutive filters share the comment above them
                }
                assertTrue(j >= 0 && lines.get(j).strip().startsWith("#"),
                        "filter without a justifying comment: " + lines.get(i));
                assertTrue(m.group(1).startsWith("bourne"), "filter not anchored to our packages: " + lines.get(i));
                assertTrue(m.group(1).endsWith("$"), "filter not anchored at the end: " + lines.get(i));
            }
        }
        assertTrue(filters > 0, "no filters found: the pattern no longer matches the file's layout");
    }
}
