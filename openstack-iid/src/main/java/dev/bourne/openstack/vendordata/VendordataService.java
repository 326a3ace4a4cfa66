package dev.bourne.openstack.vendordata;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.keymanager.KeyManagers;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running IID signing service, the composition root of {@code bourne-vendordata run}: the KeyManager the
 * configuration names, the rotating {@link IidSigningKeys}, the {@link IidSigner} and the HTTPS
 * {@link VendordataServer}, plus a scheduler that checks every {@link #ROTATION_CHECK} whether a key rotation is due.
 *
 * <p>The service starts even when the KeyManager cannot be reached (an HSM that is down): it then answers 503 and
 * reports not ready until the keys load. A configuration or file problem stops it before it listens.
 */
public final class VendordataService implements AutoCloseable {
    /** How often the scheduler looks for a due rotation (requests look too, so this is only for idle times). */
    public static final Duration ROTATION_CHECK = Duration.ofSeconds(30);

    private static final Logger LOG = LoggerFactory.getLogger(VendordataService.class);

    private final KeyManager keyManager;
    private final IidSigningKeys keys;
    private final VendordataServer server;
    private final ScheduledExecutorService scheduler;
    private final CountDownLatch closed = new CountDownLatch(1);

    private VendordataService(KeyManager keyManager, IidSigningKeys keys, VendordataServer server,
            ScheduledExecutorService scheduler) {
        this.keyManager = keyManager;
        this.keys = keys;
        this.server = server;
        this.scheduler = scheduler;
    }

    /**
     * Every problem with the files the settings name (TLS certificate and key, client CA, token): what
     * {@code bourne-vendordata validate} reports after the settings themselves, and what stops {@link #start}.
     */
    public static List<ConfigError> checkFiles(VendordataSettings settings, Path configFile) {
        List<ConfigError> errors = new ArrayList<>(VendordataTls.load(settings, configFile).errors());
        errors.addAll(CallerAuthenticator.load(settings, configFile).errors());
        return errors;
    }

    /**
     * Starts the service the settings describe.
     *
     * @param configFile names the configuration in errors
     * @throws ConfigException when a file the settings name is unusable, or the key manager's plugin data is invalid
     * @throws VendordataStartException when the data directory, the journal, the key manager or the listener fail
     */
    public static VendordataService start(VendordataSettings settings, Path configFile, Clock clock,
            SecureRandom random) throws ConfigException, VendordataStartException {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(random, "random");
        ConfigResult<VendordataTls> tls = VendordataTls.load(settings, configFile);
        ConfigResult<CallerAuthenticator> authenticator = CallerAuthenticator.load(settings, configFile);
        List<ConfigError> errors = new ArrayList<>(tls.errors());
        errors.addAll(authenticator.errors());
        if (!errors.isEmpty()) {
            throw new ConfigException(errors);
        }
        createDataDir(settings.dataDir());
        KeyManager keyManager;
        try {
            keyManager = KeyManagers.open(settings.keyManager(), settings.dataDir(), random, clock);
        } catch (KeyManagerException e) {
            throw new VendordataStartException("cannot open the " + settings.keyManager().name() + " key manager: "
                    + e.getMessage(), e);
        }
        try {
            IidSigningKeys keys = IidSigningKeys.open(keyManager, settings.dataDir(), settings.keyType(),
                    settings.keyLifetime(), settings.documentTtl(), clock);
            try {
                keys.rotateIfDue();
            } catch (KeyManagerException | SigningKeysException e) {
                LOG.warn("the signing keys cannot be loaded yet, the service is not ready: {}", e.getMessage());
            }
            IidSigner signer = new IidSigner(keys, settings.issuer(), settings.audience(), settings.documentTtl(),
                    clock, random);
            VendordataServer server = VendordataServer.start(new InetSocketAddress(settings.bindAddress(),
                    settings.bindPort()), tls.orElseThrow(), authenticator.orElseThrow(), signer, keys,
                    keyManager::status);
            ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
                Thread thread = new Thread(runnable, "bourne-vendordata-rotation");
                thread.setDaemon(true);
                return thread;
            });
            scheduler.scheduleWithFixedDelay(() -> rotate(keys), ROTATION_CHECK.toSeconds(),
                    ROTATION_CHECK.toSeconds(), TimeUnit.SECONDS);
            return new VendordataService(keyManager, keys, server, scheduler);
        } catch (SigningKeysException e) {
            keyManager.close();
            throw new VendordataStartException(e.getMessage(), e);
        } catch (IOException e) {
            keyManager.close();
            throw new VendordataStartException("cannot listen on " + settings.bindAddress() + ":"
                    + settings.bindPort() + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            keyManager.close();
            throw e;
        }
    }

    private static void rotate(IidSigningKeys keys) {
        try {
            keys.rotateIfDue();
        } catch (KeyManagerException | SigningKeysException e) {
            LOG.warn("signing key rotation failed, will retry: {}", e.getMessage());
        } catch (RuntimeException e) {
            // A scheduled task that throws is never run again: log and keep the schedule alive.
            LOG.error("signing key rotation failed unexpectedly, will retry", e);
        }
    }

    private static void createDataDir(Path dataDir) throws VendordataStartException {
        try {
            if (!Files.isDirectory(dataDir)) {
                Files.createDirectories(dataDir,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
        } catch (IOException | UnsupportedOperationException e) {
            throw new VendordataStartException("cannot create data_dir " + dataDir + ": " + e.getMessage(), e);
        }
    }

    /** The port the listener is bound to. */
    public int port() {
        return server.port();
    }

    /** The signing keys, for status and tests. */
    public IidSigningKeys keys() {
        return keys;
    }

    /**
     * Ready as {@code GET /ready} means it: the signing keys are loaded (trying once more now if they are not) and the
     * KeyManager can sign.
     */
    public boolean ready() {
        if (!keys.loaded()) {
            try {
                keys.rotateIfDue();
            } catch (KeyManagerException | SigningKeysException e) {
                return false;
            }
        }
        return keyManager.status().isActive();
    }

    /** Blocks until {@link #close} has run. */
    public void awaitTermination() throws InterruptedException {
        closed.await();
    }

    @Override
    public synchronized void close() {
        if (closed.getCount() == 0) {
            return;
        }
        try {
            server.close();
            scheduler.shutdownNow();
            keyManager.close();
            LOG.info("IID signing service stopped");
        } finally {
            closed.countDown();
        }
    }
}
