package dev.bourne.packaging.rpm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bourne.packaging.PackagingTool;
import dev.bourne.packaging.Rpms;
import dev.bourne.testing.Exec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A directory the RPMs are installed into with {@code rpm --root}, as on a host: an initialised rpm database, the
 * service accounts created by {@code systemd-sysusers --root} from the packages' own sysusers.d files (which proves
 * those files), then {@code rpm -ivh --nodeps --noscripts} (scriptlets would run systemctl on this machine).
 */
final class RpmRoot {
    static final Path SOURCES = Rpms.ROOT.resolve("packaging/rpm");

    private final Path dir;

    private RpmRoot(Path dir) {
        this.dir = dir;
    }

    /** A new root under {@code parent} with the service accounts and the given RPMs installed. */
    static RpmRoot install(Path parent, List<Path> rpms) throws IOException {
        Path dir = Files.createDirectories(parent.resolve("root"));
        Commands.runOk(PackagingTool.RPM, "--root", dir.toString(), "--initdb");
        Files.createDirectories(dir.resolve("etc"));  // systemd-sysusers creates the files, not the directory
        Commands.runOk(PackagingTool.SYSTEMD_SYSUSERS, "--root", dir.toString(),
                SOURCES.resolve("bourne-server.sysusers").toString(),
                SOURCES.resolve("bourne-agent.sysusers").toString(),
                SOURCES.resolve("bourne-vendordata.sysusers").toString());
        RpmRoot root = new RpmRoot(dir);
        root.rpm("-ivh", rpms);
        return root;
    }

    /** {@code rpm --root DIR <mode> --nodeps --noscripts RPMS}; returns its result, which must be a success. */
    Exec.Result rpm(String mode, List<Path> rpms) {
        List<String> args = new ArrayList<>(List.of("--root", dir.toString(), mode, "--nodeps", "--noscripts"));
        rpms.forEach(p -> args.add(p.toString()));
        return Commands.run(PackagingTool.RPM, Map.of(), args.toArray(String[]::new)).requireSuccess();
    }

    Path dir() {
        return dir;
    }

    /** A path inside the root, from its absolute path on the installed system. */
    Path path(String absolute) {
        return dir.resolve(absolute.substring(1));
    }

    /** The numeric id of a user in the root's /etc/passwd. */
    int uid(String user) {
        return Integer.parseInt(entry("etc/passwd", user).get(2));
    }

    /** The numeric id of a group in the root's /etc/group. */
    int gid(String group) {
        return Integer.parseInt(entry("etc/group", group).get(2));
    }

    /** The fields of the line for {@code name} in the root's passwd or group file. */
    List<String> entry(String file, String name) {
        return findEntry(file, name).orElseThrow(
                () -> new AssertionError(name + " is not in " + dir.resolve(file)));
    }

    Optional<List<String>> findEntry(String file, String name) {
        try {
            for (String line : Files.readAllLines(dir.resolve(file))) {
                List<String> fields = List.of(line.split(":", -1));
                if (fields.get(0).equals(name)) {
                    return Optional.of(fields);
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Asserts the mode (permission bits), owner and group of an installed path. */
    void assertOwnedBy(String absolute, String mode, String user, String group) throws IOException {
        Path p = path(absolute);
        String actualMode = Integer.toOctalString((Integer) Files.getAttribute(p, "unix:mode") & 07777);
        int actualUid = (Integer) Files.getAttribute(p, "unix:uid");
        int actualGid = (Integer) Files.getAttribute(p, "unix:gid");
        assertEquals(mode + " " + user + ":" + group,
                String.format("%04o", Integer.parseInt(actualMode, 8)) + " " + nameOf("etc/passwd", actualUid) + ":"
                        + nameOf("etc/group", actualGid),
                absolute);
    }

    private String nameOf(String file, int id) throws IOException {
        if (id == 0) {
            return "root";  // systemd-sysusers writes only the accounts it creates into an empty root
        }
        for (String line : Files.readAllLines(dir.resolve(file))) {
            String[] fields = line.split(":", -1);
            if (fields.length > 2 && fields[2].equals(Integer.toString(id))) {
                return fields[0];
            }
        }
        return "#" + id;
    }
}
