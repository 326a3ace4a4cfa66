package dev.bourne.agent.workloadattestor.internal;

/** Unix user and group ids: unsigned 32-bit decimals. */
public final class Ids {
    /** (uid_t) -1 is "no id" in every syscall, never a real user or group. */
    public static final long MAX_ID = 0xFFFF_FFFEL;

    private Ids() {
    }

    /** The id written in {@code text}, or -1 when it is not a plain decimal in {@code [0, MAX_ID]}. */
    public static long parseId(String text) {
        if (text.isEmpty() || text.length() > 10) {
            return -1;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
        }
        long id = Long.parseLong(text);
        return id <= MAX_ID ? id : -1;
    }

    /** An id from a C {@code int} (uid_t is unsigned; Java reads it signed). */
    public static long unsigned(int id) {
        return Integer.toUnsignedLong(id);
    }
}
