<?php return array (
  'app' => 
  array (
    'name' => 'Shop',
    'env' => 'production',
    'debug' => false,
    'url' => 'https://shop.example.com',
    'timezone' => 'UTC',
    'key' => 'base64:c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5MTI=',
    'previous_keys' => 
    array (
    ),
    'maintenance' => 
    array (
      'driver' => 'file',
    ),
    'providers' => 
    array (
      0 => 'Illuminate\\Auth\\AuthServiceProvider',
      1 => 'Illuminate\\Broadcasting\\BroadcastServiceProvider',
    ),
    'aliases' => 
    array (
      'Str' => 'Illuminate\\Support\\Str',
    ),
  ),
  'cache' => 
  array (
    'default' => 'redis',
    'prefix' => 'shop_cache_',
    'ttl' => 3600,
    'ratio' => 1.5,
    'nul' => 'a' . "\0" . 'b',
  ),
  'database' => 
  array (
    'default' => 'mysql',
    'connections' => 
    array (
      'sqlite' => 
      array (
        'driver' => 'sqlite',
        'url' => NULL,
        'database' => '/var/www/html/database/database.sqlite',
        'prefix' => '',
        'foreign_key_constraints' => true,
      ),
      'mysql' => 
      array (
        'driver' => 'mysql',
        'url' => NULL,
        'host' => 'db-primary.shop.internal',
        'port' => '3306',
        'database' => 'shop_production',
        'username' => 'shop',
        'password' => 'It\'s-a-s3cret\\',
        'unix_socket' => '',
        'charset' => 'utf8mb4',
        'collation' => 'utf8mb4_unicode_ci',
        'prefix' => '',
        'prefix_indexes' => true,
        'strict' => true,
        'engine' => NULL,
        'options' => 
        array (
        ),
      ),
      'pgsql' => 
      array (
        'driver' => 'pgsql',
        'url' => NULL,
        'host' => '127.0.0.1',
        'port' => 5432,
        'database' => 'shop',
        'username' => 'shop',
        'password' => '',
        'charset' => 'utf8',
        'search_path' => 'public',
        'sslmode' => 'prefer',
      ),
    ),
    'migrations' => 
    array (
      'table' => 'migrations',
      'update_date_on_publish' => true,
    ),
    'redis' => 
    array (
      'client' => 'phpredis',
      'default' => 
      array (
        'host' => '127.0.0.1',
        'port' => '6379',
        'database' => '0',
      ),
    ),
  ),
  'logging' => 
  array (
    'default' => 'stack',
    'deprecations' => 
    array (
      'channel' => NULL,
      'trace' => false,
    ),
    'level' => -1,
    'big' => 1.0E+25,
    'min' => -9223372036854775807-1,
    'nan' => NAN,
    'inf' => -INF,
    'obj' => 
    \Illuminate\Support\Collection::__set_state(array(
       'items' => 
      array (
      ),
       'escapeWhenCastingToString' => false,
    )),
    'std' => 
    (object) array(
       'a' => 1,
    ),
    'enum' => \App\Enums\Level::Debug,
  ),
);
