# Scheduler server image. Build: docker build -t scheduler .
# Run:   docker run -p 8080:8080 -p 5081:5081 -e ConnectionStrings__Scheduler="Host=db;Database=scheduler;Username=...;Password=..." \
#          -e Auth__BootstrapAdminKey=sk_... scheduler
# Mirrors run.sh: the server applies migrations at start-up; configuration is environment variables.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props Scheduler.sln ./
COPY src/Scheduler/Scheduler.csproj src/Scheduler/
COPY src/Scheduler.Abstractions/Scheduler.Abstractions.csproj src/Scheduler.Abstractions/
RUN dotnet restore src/Scheduler/Scheduler.csproj
COPY src/ src/
# The server project links these two into its output: the one appsettings.json and the SQL
# migrations (published as /app/migrations, read through Database__MigrationsPath below).
COPY appsettings.json ./
COPY migrations/ migrations/
# The gRPC services are generated from protos/ at build time (Grpc.Tools).
COPY protos/ protos/
RUN dotnet publish src/Scheduler/Scheduler.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# bash and setsid run shell tasks in their own process group; curl serves the health check;
# OpenLDAP's client library is what System.DirectoryServices.Protocols calls for LDAP sign-in
# (named libldap-2.5-0 on Debian 12, libldap2 on newer Debian and Ubuntu).
RUN apt-get update && apt-get install -y --no-install-recommends bash util-linux curl tzdata git \
    && (apt-get install -y --no-install-recommends libldap-2.5-0 || apt-get install -y --no-install-recommends libldap2) \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
# Everything under /app, plugins included, is root's and read-only to the app user that runs
# the server and its shell tasks: a task cannot plant a plugin (code the server loads at
# start-up) or change the server. Mount plugins read-only too (-v ./plugins:/app/plugins:ro).
RUN mkdir -p /app/plugins && chown -R root:root /app && chmod -R u=rwX,go=rX /app
# /app/data: where a generated bootstrap admin key is written (0600) when none is configured.
RUN mkdir -p /app/data && chown app:app /app/data && chmod 700 /app/data
USER app
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    Database__MigrationsPath=/app/migrations \
    Workers__PluginsPath=/app/plugins
# 8080: REST API, admin pages, health, metrics; 5081: gRPC (h2c, Grpc__Port; off on worker-only replicas).
EXPOSE 8080 5081
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/health/ready || exit 1
ENTRYPOINT ["dotnet", "Scheduler.dll"]
