# One image for every kumo service; docker-compose.yml picks the service with `command`.
FROM node:20-slim

WORKDIR /app
ENV NODE_ENV=production

# The whole tree first, then `npm ci`: npm workspaces need every workspace's package.json in place, and
# listing them one by one here would break silently when a service is added.
COPY . .
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm run build:web \
    && mkdir -p /app/.kumo \
    && chown node:node /app/.kumo

USER node

# tsx runs the TypeScript sources directly (a production dependency). Default: the API.
CMD ["npx", "tsx", "services/api/src/main.ts"]
