package dev.bourne.appliance.server;

import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.core.config.ServerSettings;
import io.grpc.BindableService;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;

/** Builds the admin API's gRPC services that {@link BourneServer} serves on its admin Unix socket. */
@FunctionalInterface
public interface AdminServicesFactory {

    /** No admin services (the socket still serves {@code grpc.health.v1}). */
    AdminServicesFactory NONE = (dataStore, ca, settings, clock, random) -> List.of();

    List<BindableService> create(DataStore dataStore, CaManager ca, ServerSettings settings, Clock clock,
            SecureRandom random);
}
