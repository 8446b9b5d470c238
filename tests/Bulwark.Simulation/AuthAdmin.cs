using Bulwark.Api.Authpb;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv;
using Bulwark.Kv.Auth;
using Google.Protobuf;

namespace Bulwark.Simulation;

/// <summary>
/// The operator of an auth run (<see cref="SimulationOptions.Auth"/>), calling through the log as the Auth API
/// proposes: first root (with the root role), a role with readwrite on the workload's keys (prefix
/// <see cref="SimCommandTranslation.KeyPrefix"/>), a user holding it, then auth enable; once that is applied the
/// clients start, as <see cref="User"/>. While the faults run it changes the auth state every few hundred ms, as root:
/// it revokes the role's permission and re-grants it a little later (calls in between are refused), or grants the role
/// an unrelated key (the user's rights stay, only the auth revision moves): either way commands resolved before the
/// change apply after it as stale and are proposed again. Each call is retried on another node until it is applied;
/// an error a retried call may meet because its first attempt did apply ("already exists", "not granted") counts as
/// done. Keys under <see cref="ForbiddenPrefix"/> are never granted to the user.
/// </summary>
public sealed class AuthAdmin
{
    public const string User = "sim-user";
    public const string Role = "sim-readwrite";
    public const string ForbiddenPrefix = "x";

    /// <summary>How many keys under <see cref="ForbiddenPrefix"/> the clients try.</summary>
    public const int ForbiddenKeys = 2;

    /// <summary>The unrelated key a revision-only change grants the role.</summary>
    private const string UnrelatedKey = "y";

    /// <summary>Admin request ids count down from here (below compactions, which count down from -1,000,000,000).</summary>
    private const long RequestBase = -2_000_000_000;

    /// <summary>
    /// Stands for the PBKDF2 hash the receiving member computes before it proposes a user (the log only ever carries a
    /// hash; applying compares and stores it as it is). Nobody logs in by password here: clients call as
    /// <see cref="User"/> the way a verified client certificate's common name does.
    /// </summary>
    private const string PasswordHash = "sim-pbkdf2-stand-in";

    private static readonly string[] Idempotent =
    [
        AuthErrors.UserAlreadyExistMessage, AuthErrors.RoleAlreadyExistMessage, AuthErrors.PermissionNotGrantedMessage,
    ];

    private readonly SimWorld world;
    private readonly DeterministicRandom random;
    private readonly Func<IReadOnlyList<SimNode>> targets;
    private readonly Func<SimNode?> leader;
    private readonly long timeout;
    private long requests;

    public AuthAdmin(SimWorld world, DeterministicRandom random, Func<IReadOnlyList<SimNode>> targets, Func<SimNode?> leader, long timeout)
    {
        this.world = world;
        this.random = random;
        this.targets = targets;
        this.leader = leader;
        this.timeout = timeout;
    }

    /// <summary>No new mid-run changes once set (a re-grant under way still finishes).</summary>
    public bool Stopped { get; set; }

    /// <summary>Set once auth enable was applied.</summary>
    public bool Enabled { get; private set; }

    /// <summary>Auth changes applied after auth was enabled (revocations, re-grants, unrelated grants).</summary>
    public int ChangesApplied { get; private set; }

    /// <summary>Revocations of the user's permission applied.</summary>
    public int Revocations { get; private set; }

    /// <summary>Sets up root, the role, the user and the switch, one call after another; then runs <paramref name="onEnabled"/>.</summary>
    public void Start(Action onEnabled)
    {
        var allowed = Grant(SimCommandTranslation.KeyPrefix);
        var steps = new List<Func<RaftCommand>>
        {
            () => new RaftCommand { UserAdd = new AuthUserAddRequest { Name = AuthStore.RootUser, HashedPassword = PasswordHash } },
            () => new RaftCommand { UserGrantRole = new AuthUserGrantRoleRequest { User = AuthStore.RootUser, Role = AuthStore.RootRole } },
            () => new RaftCommand { RoleAdd = new AuthRoleAddRequest { Name = Role } },
            () => new RaftCommand { RoleGrantPermission = allowed },
            () => new RaftCommand { UserAdd = new AuthUserAddRequest { Name = User, HashedPassword = PasswordHash } },
            () => new RaftCommand { UserGrantRole = new AuthUserGrantRoleRequest { User = User, Role = Role } },
            () => new RaftCommand { AuthEnable = new AuthEnableRequest() },
        };

        void Step(int i)
        {
            if (i == steps.Count)
            {
                Enabled = true;
                world.Trace(0, "auth-enabled", 0, 0);
                onEnabled();
                ScheduleNextChange();
                return;
            }

            Call(steps[i], () => Step(i + 1));
        }

        world.Scheduler.After(random.Between(1_000, 20_000), () => Step(0));
    }

    private static AuthRoleGrantPermissionRequest Grant(string prefix) => new()
    {
        Name = Role,
        Perm = new Permission
        {
            PermType = Permission.Types.Type.Readwrite,
            Key = ByteString.CopyFromUtf8(prefix),
            RangeEnd = ByteString.CopyFromUtf8(SimCommandTranslation.PrefixEnd(prefix)),
        },
    };

    private void ScheduleNextChange()
    {
        world.Scheduler.After(random.Between(100_000, 400_000), () =>
        {
            if (Stopped)
            {
                return;
            }

            if (random.Chance(0.6))
            {
                // Revoke the user's only permission, and give it back 20-150 ms after the revocation applied.
                Call(() => new RaftCommand
                {
                    RoleRevokePermission = new AuthRoleRevokePermissionRequest
                    {
                        Role = Role,
                        Key = ByteString.CopyFromUtf8(SimCommandTranslation.KeyPrefix),
                        RangeEnd = ByteString.CopyFromUtf8(SimCommandTranslation.PrefixEnd(SimCommandTranslation.KeyPrefix)),
                    },
                }, () =>
                {
                    Revocations++;
                    ChangesApplied++;
                    world.Trace(0, "auth-revoked", 0, 0);
                    world.Scheduler.After(random.Between(20_000, 150_000), () => Call(
                        () => new RaftCommand { RoleGrantPermission = Grant(SimCommandTranslation.KeyPrefix) },
                        () =>
                        {
                            ChangesApplied++;
                            world.Trace(0, "auth-regranted", 0, 0);
                            ScheduleNextChange();
                        }));
                });
            }
            else
            {
                Call(() => new RaftCommand { RoleGrantPermission = Grant(UnrelatedKey) }, () =>
                {
                    ChangesApplied++;
                    ScheduleNextChange();
                });
            }
        });
    }

    /// <summary>
    /// Proposes <paramref name="build"/>'s command as root through the leader (or any node) until it is applied, then
    /// runs <paramref name="then"/>. A call refused, lost or timed out is tried again as a new call.
    /// </summary>
    private void Call(Func<RaftCommand> build, Action then)
    {
        var requestId = RequestBase - ++requests;
        var finished = false;

        void Retry()
        {
            if (!finished)
            {
                finished = true;
                world.Scheduler.After(random.Between(5_000, 30_000), () => Call(build, then));
            }
        }

        var nodes = targets();
        var node = leader() is { IsUp: true, IsRetired: false } current ? current : random.Pick(nodes);
        node.SubmitAdmin(requestId, AuthStore.RootUser, build(), result =>
        {
            if (finished)
            {
                return;
            }

            if (result is null)
            {
                Retry();
                return;
            }

            if (result.Error is { } error && !Idempotent.Contains(error.Message))
            {
                world.Monitor.Fail($"auth: the operator's {build().RequestCase} was refused: {error.Message}");
                finished = true;
                return;
            }

            finished = true;
            then();
        });
        world.Scheduler.After(timeout, Retry);
    }
}
