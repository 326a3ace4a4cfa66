package dev.bourne.agent.runtime;

import dev.bourne.agent.node.JoinTokenAttestor;
import dev.bourne.agent.workloadattestor.WorkloadAttestorCatalog;
import dev.bourne.core.config.AgentSettings;
import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigReader;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.ConfigSecret;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.openstack.agent.OpenStackAgentSettings;
import dev.bourne.openstack.common.OpenStackIid;
import dev.bourne.tpm.agent.TpmAgentAttestor;
import dev.bourne.tpm.agent.TpmAgentSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The agent's built-in plugins and the check of their {@code plugin_data}, shared by {@code bourne-agent validate} and
 * {@code run}: every error at once, each naming file, key and reason.
 */
public final class AgentPlugins {
    public static final String KEY_MANAGER = "KeyManager";
    public static final String NODE_ATTESTOR = "NodeAttestor";
    public static final String KEY_MANAGER_NOT_SUPPORTED = "the agent keeps its own key with KeyManager \"memory\" "
            + "or \"disk\"";
    public static final String NODE_ATTESTOR_NOT_AVAILABLE = "is not a node attestor of this agent; use join_token, "
            + "openstack_iid or tpm";
    public static final String JOIN_TOKEN_WITH_TPM = "is only used with NodeAttestor \"join_token\"; this agent "
            + "attests with its TPM (NodeAttestor \"tpm\"): remove it";
    public static final String JOIN_TOKEN_WITH_OPENSTACK = "is only used with NodeAttestor \"join_token\"; this agent "
            + "attests with its instance identity document (NodeAttestor \"openstack_iid\"): remove it";
    public static final String TRUST_BUNDLE_URL_NOT_SUPPORTED = "is not supported yet; use trust_bundle_path";
    public static final String TOKEN_TOO_LONG = JoinTokenAttestor.MAX_TOKEN_CHARS_TEXT;

    private AgentPlugins() {
    }

    /** Errors in the agent's plugin choices and plugin data; empty when the runtime can start with them. */
    public static List<ConfigError> validate(AgentSettings settings) {
        List<ConfigError> errors = new ArrayList<>();
        for (PluginConfig plugin : settings.plugins()) {
            if (plugin.type().equals(KEY_MANAGER)) {
                ConfigReader data = plugin.pluginDataReader();
                if (!plugin.name().equals("memory") && !plugin.name().equals("disk")) {
                    errors.add(new ConfigError(plugin.file(), plugin.keyPath(), KEY_MANAGER_NOT_SUPPORTED));
                }
                // memory takes no options; disk takes the directory of the agent SVID key (default data_dir).
                if (plugin.name().equals("disk")) {
                    data.optionalPath("directory");
                }
                data.rejectUnknownKeys();
                errors.addAll(data.errors());
            } else if (plugin.type().equals(NODE_ATTESTOR)) {
                ConfigReader data = plugin.pluginDataReader();
                if (plugin.name().equals(JoinTokenAttestor.NAME)) {
                    Optional<ConfigSecret> token = data.optionalSecret("join_token");
                    if (token.isPresent() && token.get().reveal().length() > JoinTokenAttestor.MAX_TOKEN_CHARS) {
                        data.error("join_token", TOKEN_TOO_LONG);
                    }
                    data.rejectUnknownKeys();
                    errors.addAll(data.errors());
                } else if (plugin.name().equals(TpmAgentAttestor.NAME)) {
                    errors.addAll(TpmAgentSettings.validate(plugin).errors());
                    if (settings.joinToken().isPresent()) {
                        errors.add(new ConfigError(plugin.file(), "agent.join_token", JOIN_TOKEN_WITH_TPM));
                    }
                } else if (plugin.name().equals(OpenStackIid.PLUGIN_NAME)) {
                    errors.addAll(OpenStackAgentSettings.validate(plugin).errors());
                    if (settings.joinToken().isPresent()) {
                        errors.add(new ConfigError(plugin.file(), "agent.join_token", JOIN_TOKEN_WITH_OPENSTACK));
                    }
                } else {
                    errors.add(new ConfigError(plugin.file(), plugin.keyPath(), NODE_ATTESTOR_NOT_AVAILABLE));
                }
            }
        }
        WorkloadAttestorCatalog.fromConfig(settings.plugins(), errors);
        if (settings.trustBundleUrl().isPresent()) {
            errors.add(new ConfigError(settings.plugins().isEmpty() ? "" : settings.plugins().get(0).file(),
                    "agent.trust_bundle_url", TRUST_BUNDLE_URL_NOT_SUPPORTED));
        }
        return errors;
    }

    /**
     * The validated settings of {@code NodeAttestor "tpm"}, when that is the agent's node attestor. Call after
     * {@link #validate} found no error.
     */
    public static Optional<TpmAgentSettings> tpm(AgentSettings settings) {
        for (PluginConfig plugin : settings.plugins()) {
            if (plugin.type().equals(NODE_ATTESTOR) && plugin.name().equals(TpmAgentAttestor.NAME)) {
                ConfigResult<TpmAgentSettings> result = TpmAgentSettings.validate(plugin);
                if (result instanceof ConfigResult.Valid<TpmAgentSettings> valid) {
                    return Optional.of(valid.settings());
                }
                throw new IllegalArgumentException("NodeAttestor \"tpm\": " + result.errors());
            }
        }
        return Optional.empty();
    }

    /**
     * The validated settings of {@code NodeAttestor "openstack_iid"}, when that is the agent's node attestor. Call after
     * {@link #validate} found no error.
     */
    public static Optional<OpenStackAgentSettings> openStack(AgentSettings settings) {
        for (PluginConfig plugin : settings.plugins()) {
            if (plugin.type().equals(NODE_ATTESTOR) && plugin.name().equals(OpenStackIid.PLUGIN_NAME)) {
                ConfigResult<OpenStackAgentSettings> result = OpenStackAgentSettings.validate(plugin);
                if (result instanceof ConfigResult.Valid<OpenStackAgentSettings> valid) {
                    return Optional.of(valid.settings());
                }
                throw new IllegalArgumentException("NodeAttestor \"openstack_iid\": " + result.errors());
            }
        }
        return Optional.empty();
    }

    /** Where KeyManager disk keeps the agent SVID and key, or empty for KeyManager memory. */
    static Optional<java.nio.file.Path> svidDirectory(AgentSettings settings) {
        for (PluginConfig plugin : settings.plugins()) {
            if (plugin.type().equals(KEY_MANAGER) && plugin.name().equals("disk")) {
                return Optional.of(plugin.pluginDataReader().optionalPath("directory").orElse(settings.dataDir()));
            }
        }
        return Optional.empty();
    }

    /** The join token: the {@code -joinToken} flag, else plugin_data {@code join_token}, else agent.join_token. */
    static Optional<ConfigSecret> joinToken(AgentSettings settings, Optional<String> flag) {
        if (flag.isPresent() && !flag.get().isBlank()) {
            return Optional.of(new ConfigSecret(flag.get().strip()));
        }
        for (PluginConfig plugin : settings.plugins()) {
            if (plugin.type().equals(NODE_ATTESTOR) && plugin.name().equals(JoinTokenAttestor.NAME)) {
                Optional<ConfigSecret> token = plugin.pluginDataReader().optionalSecret("join_token");
                if (token.isPresent()) {
                    return token;
                }
            }
        }
        return settings.joinToken();
    }
}
