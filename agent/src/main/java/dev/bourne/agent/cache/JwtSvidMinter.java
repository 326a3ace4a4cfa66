package dev.bourne.agent.cache;

import dev.bourne.agent.workloadapi.JwtSvidMintException;
import dev.bourne.core.spiffeid.SpiffeId;
import java.util.List;

/**
 * Gets JWT-SVIDs signed by the server's JWT authority; the agent's server client implements it
 * ({@code SVID.NewJWTSVID}). The agent cannot sign JWT-SVIDs itself: only the server holds the JWT key.
 */
@FunctionalInterface
public interface JwtSvidMinter {

    /** A compact JWT-SVID for {@code spiffeId} with audience {@code audience}. */
    String mint(SpiffeId spiffeId, List<String> audience) throws JwtSvidMintException;
}
