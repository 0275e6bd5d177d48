/** Which database the suite runs on: DB_CLIENT=sqlite (default) or mysql (MYSQL_URL, default root@127.0.0.1:3306). */
export const dbClient: 'sqlite' | 'mysql' = process.env.DB_CLIENT === 'mysql' ? 'mysql' : 'sqlite';
export const mysqlBaseUrl = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
