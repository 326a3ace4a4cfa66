package dev.bourne.appliance.protos;

import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.core.selector.Selector;
import java.time.Duration;

/**
 * Converts a stored registration entry to its {@code bourne.api.v1.RegistrationEntry} message: the one conversion the
 * admin API (entries it lists, creates and updates) and the agent API (entries it sends agents) share, so both APIs
 * describe an entry with the same fields.
 */
public final class EntryProtos {
    private EntryProtos() {
    }

    /** The message for {@code entry}; TTLs beyond the message's 32-bit seconds are capped, not wrapped. */
    public static dev.bourne.api.v1.RegistrationEntry toProto(RegistrationEntry entry) {
        dev.bourne.api.v1.RegistrationEntry.Builder builder = dev.bourne.api.v1.RegistrationEntry.newBuilder()
                .setId(entry.id())
                .setSpiffeId(entry.spiffeId().toString())
                .setParentId(entry.parentId().toString())
                .setX509SvidTtl(seconds(entry.x509SvidTtl()))
                .setJwtSvidTtl(seconds(entry.jwtSvidTtl()))
                .setAdmin(entry.admin())
                .setDownstream(entry.downstream())
                .addAllDnsNames(entry.dnsNames())
                .setRevisionNumber(entry.revisionNumber())
                .setStoreSvid(entry.storeSvid())
                .setHint(entry.hint())
                .setCreatedAt(entry.createdAt().getEpochSecond());
        entry.selectors().forEach(selector -> builder.addSelectors(toProto(selector)));
        entry.federatesWith().forEach(domain -> builder.addFederatesWith(domain.name()));
        return builder.build();
    }

    /** The message for {@code selector}. */
    public static dev.bourne.api.v1.Selector toProto(Selector selector) {
        return dev.bourne.api.v1.Selector.newBuilder().setType(selector.type()).setValue(selector.value()).build();
    }

    /** {@code duration} in whole seconds, capped at {@link Integer#MAX_VALUE}. */
    public static int seconds(Duration duration) {
        return (int) Math.min(Integer.MAX_VALUE, duration.getSeconds());
    }
}
